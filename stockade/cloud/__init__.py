"""Ports (``cloud.ports``) the engine calls, the AWS adapters (``cloud.aws``) and the embedded
sandbox (``cloud.sandbox``). Only this package imports boto3 or botocore."""
