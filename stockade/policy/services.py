"""What the linter knows about AWS services: action prefixes, and which ARN services they act on.

``KNOWN_PREFIXES`` lists the service prefixes of IAM actions (``s3`` in ``s3:GetObject``) for the
services a SaaS platform commonly governs. It is deliberately a list of the well-known ones, not
all of AWS: an unknown prefix close to a known one (``s33``, ``ec``) is reported as a likely typo
(an error: the statement can never match), any other unknown prefix only as a warning.

``CROSS_SERVICE`` lists action prefixes whose actions legitimately name resources of another
service's ARN namespace (``sts:AssumeRole`` on ``arn:aws:iam::...:role/...``), so the
"Resource ARN of another service" check does not flag them.

Who calls it: ``policy.lint``.
"""

from __future__ import annotations

from collections.abc import Mapping

KNOWN_PREFIXES: frozenset[str] = frozenset(
    """
    access-analyzer account acm acm-pca airflow amplify aoss apigateway app-integrations
    appconfig appflow application-autoscaling application-signals applicationinsights
    appmesh apprunner appstream appsync aps athena auditmanager autoscaling
    autoscaling-plans backup backup-storage batch bedrock billing budgets ce chatbot
    cloud9 cloudcontrolapi clouddirectory cloudformation cloudfront cloudhsm cloudsearch
    cloudshell cloudtrail cloudwatch codeartifact codebuild codecommit codeconnections
    codedeploy codeguru codepipeline codestar-connections codestar-notifications
    cognito-identity cognito-idp cognito-sync comprehend config connect controltower cur
    databrew datapipeline datasync dax detective devicefarm devops-guru directconnect
    dlm dms docdb-elastic ds dynamodb ebs ec2 ec2-instance-connect ec2messages ecr
    ecr-public ecs eks elasticache elasticbeanstalk elasticfilesystem
    elasticloadbalancing elasticmapreduce elastictranscoder emr-containers
    emr-serverless es events evidently execute-api firehose fis fms forecast frauddetector
    freetier fsx gamelift glacier globalaccelerator glue grafana greengrass guardduty
    health iam identitystore identity-sync imagebuilder inspector inspector2 iot
    iotanalytics iotevents iotsitewise iotwireless ivs kafka kafka-cluster kendra kinesis
    kinesisanalytics kinesisvideo kms lakeformation lambda launchwizard lex license-manager
    lightsail logs lookoutmetrics m2 macie2 mediaconvert medialive mediapackage mediastore
    memorydb mgn mobiletargeting mq neptune-db network-firewall networkmanager
    notifications oam opensearch organizations outposts payments personalize pi pipes
    polly pricing q qldb quicksight ram rbin rds rds-data rds-db redshift
    redshift-data redshift-serverless rekognition resiliencehub resource-explorer-2
    resource-groups rolesanywhere route53 route53domains route53resolver rum s3
    s3-object-lambda s3express s3-outposts sagemaker savingsplans scheduler schemas sdb
    secretsmanager securityhub securitylake serverlessrepo servicecatalog
    servicediscovery servicequotas ses shield signer sms sms-voice snowball sns sqs ssm
    ssm-contacts ssm-incidents ssmmessages sso sso-directory sso-oauth states
    storagegateway sts support supportplans sustainability swf synthetics tag tax
    textract timestream transcribe transfer translate trustedadvisor vpc-lattice waf
    waf-regional wafv2 wellarchitected workdocs workmail workspaces xray
    """.split()  # noqa: SIM905 (a readable word list)
)

#: action prefix -> ARN services its actions may legitimately name as resources
CROSS_SERVICE: Mapping[str, frozenset[str]] = {
    "sts": frozenset({"iam"}),
    "ssm": frozenset({"ec2", "s3", "iam", "kms"}),
    "ec2": frozenset({"iam", "kms"}),
    "iam": frozenset({"sts"}),
    "cloudwatch": frozenset({"logs"}),
    "logs": frozenset({"kms"}),
    "lambda": frozenset({"iam"}),
    "states": frozenset({"lambda", "iam"}),
    "events": frozenset({"iam"}),
    "elasticfilesystem": frozenset({"ec2"}),
    "ecr": frozenset({"kms"}),
    "ecs": frozenset({"iam", "ec2"}),
    "es": frozenset({"iam"}),
    "aoss": frozenset({"iam"}),
    "rds-db": frozenset({"rds"}),
    "kafka-cluster": frozenset({"kafka"}),
    "execute-api": frozenset({"apigateway"}),
    "apigateway": frozenset({"execute-api"}),
    "s3-object-lambda": frozenset({"s3"}),
    "s3": frozenset({"s3-object-lambda", "s3express"}),
    "ssmmessages": frozenset({"ssm", "ec2"}),
    "ec2messages": frozenset({"ssm", "ec2"}),
    "autoscaling": frozenset({"ec2", "iam"}),
    "cloudformation": frozenset({"iam"}),
    "elasticloadbalancing": frozenset({"ec2"}),
    "route53": frozenset({"ec2"}),
    "sso": frozenset({"iam", "sso-directory", "identitystore"}),
    "identitystore": frozenset({"sso"}),
    "kms": frozenset(),
}

#: actions a policy should not allow unconditionally (the linter's "sensitive" list):
#: lowercase name -> how findings spell it
SENSITIVE_ACTIONS: Mapping[str, str] = {
    "iam:passrole": "iam:PassRole",
    "sts:assumerole": "sts:AssumeRole",
    "organizations:leaveorganization": "organizations:*",
    "organizations:createaccount": "organizations:*",
    "organizations:attachpolicy": "organizations:*",
    "organizations:detachpolicy": "organizations:*",
    "kms:decrypt": "kms:Decrypt",
}

#: sensitive only when they apply to every resource
SENSITIVE_ON_ANY_RESOURCE: frozenset[str] = frozenset({"kms:decrypt", "iam:passrole"})
