"""boto3 adapters, one module per AWS service, implementing ``cloud.ports``.

The same code runs against AWS and against the embedded sandbox (only the endpoint and the
sandbox's event hooks differ). AWS errors are translated here, in ``errors``, once.
"""
