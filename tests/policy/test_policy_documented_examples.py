"""Cases written from AWS's documented evaluation rules and examples.

Each test names the page (and section) of the AWS documentation it comes from. The policies are
re-typed from the documented scenarios (names and ARNs shortened where it does not matter).
"""

from __future__ import annotations

from policy_support import (
    ACCOUNT,
    ALLOW,
    EXPLICIT,
    FULL_ACCESS,
    IMPLICIT,
    OTHER,
    ROLE,
    ROOT,
    SESSION,
    USER,
    V,
    allow,
    condition_holds,
    decide,
    deny,
    doc,
    kind,
)

# --- IAM User Guide, "Policy evaluation logic", "Example identity-based and resource-based
# --- policy evaluation" (Carlos, same account)

CARLOS = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
CARLOS_POLICY = doc(
    allow(["s3:GetBucketLocation", "s3:ListAllMyBuckets"], "arn:aws:s3:::*", Sid="AllowS3ListRead"),
    allow(
        "s3:*",
        ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        Sid="AllowS3Self",
    ),
    deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"),
)
CARLOS_BUCKET = doc(
    allow(
        "s3:*",
        ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        Principal={"AWS": CARLOS},
    )
)


def test_carlos_saving_to_a_logs_bucket_is_explicitly_denied() -> None:
    decision = decide(
        CARLOS,
        "s3:PutObject",
        "arn:aws:s3:::carlossalazar-logs",
        identity=[CARLOS_POLICY],
        resource_policy=CARLOS_BUCKET,
    )
    assert decision.kind is EXPLICIT
    assert [(e.policy_type.value, e.sid) for e in decision.explanation] == [
        ("identity", "DenyS3Logs")
    ]


def test_carlos_saving_to_his_bucket_is_allowed_by_both_policies() -> None:
    decision = decide(
        CARLOS,
        "s3:PutObject",
        "arn:aws:s3:::carlossalazar/report.txt",
        identity=[CARLOS_POLICY],
        resource_policy=CARLOS_BUCKET,
    )
    assert decision.kind is ALLOW
    assert {e.policy_type.value for e in decision.explanation} == {"identity", "resource"}


def test_same_account_either_identity_or_resource_policy_allowing_is_enough() -> None:
    # "If either the identity-based policy or the resource-based policy within the same account
    # allows the request and the other doesn't, the request is still allowed."
    key = "arn:aws:s3:::carlossalazar/k"
    assert kind(principal=CARLOS, resource=key, resource_policy=CARLOS_BUCKET) is ALLOW
    assert kind(principal=CARLOS, resource=key, identity=[CARLOS_POLICY]) is ALLOW


# --- IAM User Guide, "Policy evaluation logic", "The difference between explicit and implicit
# --- denies" (AllowGetList / DenyReports)

GET_LIST = doc(
    allow(["iam:Get*", "iam:List*"], Sid="AllowGetList"),
    deny("iam:*Report", Sid="DenyReports"),
)


def test_explicit_and_implicit_denies() -> None:
    assert kind(action="iam:GetUser", resource="*", identity=[GET_LIST]) is ALLOW
    assert kind(action="iam:CreatePolicy", resource="*", identity=[GET_LIST]) is IMPLICIT
    assert (
        kind(action="iam:GetOrganizationsAccessReport", resource="*", identity=[GET_LIST])
        is EXPLICIT
    )
    # a later policy granting reports does not help: the explicit deny wins
    with_grant = [GET_LIST, doc(allow("iam:GenerateCredentialReport"))]
    assert kind(action="iam:GenerateCredentialReport", identity=with_grant) is EXPLICIT


# --- IAM User Guide, "Policy evaluation logic", "Determining whether a request is allowed or
# --- denied within an account": resource-based policies and implicit denies (same account)

BOUNDARY_S3_ONLY = doc(allow("s3:ListBucket"))
KEY = "arn:aws:s3:::bucket/key"


def _bucket_for(principal: str) -> dict[str, object]:
    return doc(allow("s3:GetObject", KEY, Principal={"AWS": principal}))


def test_resource_policy_naming_the_role_is_limited_by_the_boundary() -> None:
    assert (
        kind(principal=SESSION, resource_policy=_bucket_for(ROLE), boundaries=[BOUNDARY_S3_ONLY])
        is IMPLICIT
    )
    assert kind(principal=SESSION, resource_policy=_bucket_for(ROLE)) is ALLOW


def test_resource_policy_naming_the_role_is_limited_by_the_session_policy() -> None:
    assert (
        kind(principal=SESSION, resource_policy=_bucket_for(ROLE), session=[BOUNDARY_S3_ONLY])
        is IMPLICIT
    )


def test_resource_policy_naming_the_role_session_is_not_limited() -> None:
    decision = decide(
        SESSION,
        resource_policy=_bucket_for(SESSION),
        boundaries=[BOUNDARY_S3_ONLY],
        session=[BOUNDARY_S3_ONLY],
    )
    assert decision.kind is ALLOW


def test_resource_policy_naming_the_user_is_not_limited_by_identity_or_boundary() -> None:
    assert kind(principal=USER, resource_policy=_bucket_for(USER)) is ALLOW
    assert (
        kind(principal=USER, resource_policy=_bucket_for(USER), boundaries=[BOUNDARY_S3_ONLY])
        is ALLOW
    )


def test_federated_user_sessions() -> None:
    federated = f"arn:aws:sts::{ACCOUNT}:federated-user/carol"
    # granted to the federated user ARN directly: not limited
    assert kind(principal=federated, resource_policy=_bucket_for(federated)) is ALLOW
    # without a session policy a GetFederationToken session has no identity permissions
    assert kind(principal=federated, identity=[doc(allow())]) is IMPLICIT
    assert kind(principal=federated, identity=[doc(allow())], session=[doc(allow())]) is ALLOW


def test_role_session_without_session_policy_uses_the_role_permissions() -> None:
    assert kind(principal=SESSION, identity=[doc(allow("s3:GetObject"))]) is ALLOW


def test_root_user_has_full_access_except_for_scps() -> None:
    # "By default, all requests are implicitly denied with the exception of the AWS account
    # root user, which has full access." - and SCPs restrict a member account's root user
    assert kind(principal=ROOT) is ALLOW
    assert kind(principal=ROOT, scps=[[doc(allow("ec2:*"))]]) is IMPLICIT


# --- IAM User Guide, "Cross-account policy evaluation logic", example (Carlos, two accounts)

CROSS_CARLOS = "arn:aws:iam::111111111111:user/carlossalazar"
CROSS_POLICY = doc(
    allow("s3:ListAllMyBuckets", Sid="AllowS3ListRead"),
    allow("s3:*Object*", "arn:aws:s3:::Production/*", Sid="AllowS3ProductionObjectActions"),
    deny("s3:*", ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"], Sid="DenyS3Logs"),
)
PRODUCTION_BUCKET = doc(
    allow(
        ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
        "arn:aws:s3:::Production/*",
        Principal={"AWS": CROSS_CARLOS},
    )
)


def test_cross_account_explicit_deny_in_the_trusted_account() -> None:
    decision = decide(
        CROSS_CARLOS,
        "s3:PutObject",
        "arn:aws:s3:::Production-logs/file",
        resource_account="222222222222",
        identity=[CROSS_POLICY],
    )
    assert decision.kind is EXPLICIT


def test_cross_account_both_accounts_allow() -> None:
    put = {
        "principal": CROSS_CARLOS,
        "action": "s3:PutObject",
        "resource": "arn:aws:s3:::Production/file",
        "resource_account": "222222222222",
    }
    assert kind(**put, identity=[CROSS_POLICY], resource_policy=PRODUCTION_BUCKET) is ALLOW
    # only one side allowing is not enough across accounts
    assert kind(**put, identity=[CROSS_POLICY]) is IMPLICIT
    assert kind(**put, resource_policy=PRODUCTION_BUCKET) is IMPLICIT
    # the bucket policy does not allow deleting objects
    delete = {**put, "action": "s3:DeleteObject"}
    assert kind(**delete, identity=[CROSS_POLICY], resource_policy=PRODUCTION_BUCKET) is IMPLICIT


def test_cross_account_resource_policy_naming_the_account_delegates() -> None:
    # "If you reference an AWS account as principal, it generally means any principal defined
    # within that account" - whose own identity policies must still allow (IAM terms).
    bucket = doc(allow("s3:GetObject", KEY, Principal={"AWS": OTHER}))
    bob = f"arn:aws:iam::{OTHER}:user/bob"
    assert kind(principal=bob, resource_policy=bucket, identity=[doc(allow("s3:*"))]) is ALLOW
    assert kind(principal=bob, resource_policy=bucket) is IMPLICIT


# --- IAM User Guide, "Permissions boundaries for IAM entities" (ShirleyRodriguez)

SHIRLEY = f"arn:aws:iam::{ACCOUNT}:user/ShirleyRodriguez"
SHIRLEY_BOUNDARY = doc(allow(["s3:*", "cloudwatch:*", "ec2:*"]))


def test_boundary_limits_identity_permissions() -> None:
    assert (
        kind(
            principal=SHIRLEY,
            action="iam:CreateUser",
            identity=[doc(allow("iam:CreateUser"))],
            boundaries=[SHIRLEY_BOUNDARY],
        )
        is IMPLICIT
    )
    assert (
        kind(
            principal=SHIRLEY,
            action="ec2:RunInstances",
            identity=[doc(allow("ec2:*"))],
            boundaries=[SHIRLEY_BOUNDARY],
        )
        is ALLOW
    )
    # a boundary alone grants nothing
    assert kind(principal=SHIRLEY, action="s3:GetObject", boundaries=[SHIRLEY_BOUNDARY]) is IMPLICIT


def test_notprincipal_deny_always_denies_principals_with_a_boundary() -> None:
    # "Important" note of the same page: Deny + NotPrincipal always denies a principal that has
    # a permissions boundary, whatever NotPrincipal lists.
    bucket = doc(
        allow("s3:GetObject", KEY, Principal={"AWS": USER}),
        deny("s3:*", KEY, NotPrincipal={"AWS": [USER, ROOT]}),
    )
    assert kind(principal=USER, resource_policy=bucket) is ALLOW
    assert kind(principal=USER, resource_policy=bucket, boundaries=[doc(allow())]) is EXPLICIT


# --- AWS Organizations, "Service control policies" (effects on permissions) and "SCP syntax"


def test_scp_allow_is_needed_at_every_level() -> None:
    admin = [doc(allow())]
    assert kind(identity=admin, scps=[[FULL_ACCESS], [FULL_ACCESS], [FULL_ACCESS]]) is ALLOW
    decision = decide(identity=admin, scps=[[FULL_ACCESS], [doc(allow("ec2:*"))], [FULL_ACCESS]])
    assert decision.kind is IMPLICIT
    assert [(e.policy_type.value, e.level) for e in decision.explanation] == [("scp", 1)]


def test_scp_deny_list_strategy() -> None:
    admin = [doc(allow())]
    scps = [[FULL_ACCESS, doc(deny(["iam:*", "ec2:*", "rds:*"]))]]
    assert kind(action="ec2:RunInstances", resource="*", identity=admin, scps=scps) is EXPLICIT
    assert kind(action="s3:GetObject", identity=admin, scps=scps) is ALLOW


def test_scp_never_grants() -> None:
    # "A user without any IAM permission policies has no access, even if the applicable SCPs
    # allow all services and all actions."
    assert kind(scps=[[FULL_ACCESS]]) is IMPLICIT


def test_scp_condition_on_instance_type() -> None:
    scp = doc(
        deny(
            "ec2:RunInstances",
            "arn:aws:ec2:*:*:instance/*",
            Condition={"StringNotEquals": {"ec2:InstanceType": "t2.micro"}},
        )
    )
    request = {
        "action": "ec2:RunInstances",
        "resource": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1",
        "identity": [doc(allow())],
        "scps": [[FULL_ACCESS, scp]],
    }
    assert kind(**request, context={"ec2:InstanceType": "t2.micro"}) is ALLOW
    assert kind(**request, context={"ec2:InstanceType": "m5.large"}) is EXPLICIT


def test_scp_notaction_region_restriction() -> None:
    scp = doc(
        deny(
            NotAction="iam:*",
            action=None,
            Condition={"StringNotEquals": {"aws:RequestedRegion": "us-west-1"}},
            Sid="LimitActionsInRegion",
        )
    )
    common = {"identity": [doc(allow())], "scps": [[FULL_ACCESS, scp]], "resource": "*"}
    eu = {"aws:RequestedRegion": "eu-west-1"}
    assert kind(action="iam:CreateRole", context=eu, **common) is ALLOW
    assert kind(action="ec2:RunInstances", context=eu, **common) is EXPLICIT
    assert (
        kind(action="ec2:RunInstances", context={"aws:RequestedRegion": "us-west-1"}, **common)
        is ALLOW
    )


def test_scps_do_not_affect_the_management_account_or_service_linked_roles() -> None:
    admin = [doc(allow())]
    deny_all = [[FULL_ACCESS, doc(deny())]]
    assert kind(identity=admin, scps=deny_all, management=True) is ALLOW
    linked = (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
        "AWSServiceRoleForElasticLoadBalancing"
    )
    assert kind(principal=linked, identity=admin, scps=deny_all) is ALLOW
    linked_session = (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForElasticLoadBalancing/session"
    )
    assert kind(principal=linked_session, identity=admin, scps=deny_all) is ALLOW


# --- AWS Organizations, "RCP evaluation": RCPFullAWSAccess cannot be detached; a Deny at any
# --- level from the root to the account denies


def test_rcp_deny_at_any_level_and_no_allow_needed() -> None:
    rcp = doc(
        deny(
            "s3:*",
            Principal="*",
            Condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-mine"}},
        )
    )
    outsider = f"arn:aws:iam::{OTHER}:user/bob"
    bucket = doc(allow("s3:GetObject", KEY, Principal={"AWS": outsider}))
    request = {
        "principal": outsider,
        "resource_account": ACCOUNT,
        "identity": [doc(allow())],
        "resource_policy": bucket,
    }
    assert kind(**request) is ALLOW
    assert kind(**request, rcps=[[], [rcp], []]) is EXPLICIT
    inside = {"aws:PrincipalOrgID": "o-mine"}
    assert kind(**request, rcps=[[], [rcp], []], context=inside) is ALLOW


# --- IAM User Guide, "IAM JSON policy elements: Condition operators"


def test_missing_key_makes_positive_operators_false_and_negated_true() -> None:
    # "If the key that you specify in a policy condition is not present in the request context,
    # the values do not match and the condition is false. If the policy condition requires that
    # the key is not matched, such as StringNotLike or ArnNotLike ... the condition is true."
    tag = "aws:PrincipalTag/job-category"
    assert not condition_holds({"StringEquals": {tag: "iamuser-admin"}})
    assert condition_holds({"StringEquals": {tag: "iamuser-admin"}}, {tag: "iamuser-admin"})
    assert condition_holds({"StringNotLike": {tag: "x*"}})
    assert condition_holds({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}})
    assert not condition_holds({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}})


def test_if_exists_run_instances_example() -> None:
    statement = allow(
        "ec2:RunInstances",
        Condition={"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
    )
    run = {"action": "ec2:RunInstances", "resource": "*", "identity": [doc(statement)]}
    assert kind(**run) is ALLOW  # an image, key pair... has no instance type
    assert kind(**run, context={"ec2:InstanceType": "t2.micro"}) is ALLOW
    assert kind(**run, context={"ec2:InstanceType": "m5.large"}) is IMPLICIT


def test_null_token_issue_time_example() -> None:
    condition = {"Null": {"aws:TokenIssueTime": "true"}}
    assert condition_holds(condition)
    assert not condition_holds(condition, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})


def test_ip_address_v4_and_v6_example() -> None:
    condition = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
    assert condition_holds(condition, {"aws:SourceIp": "203.0.113.7"})
    assert condition_holds(condition, {"aws:SourceIp": "2001:db8:1234:5678::1"})
    assert not condition_holds(condition, {"aws:SourceIp": "198.51.100.1"})
    assert not condition_holds(condition)  # e.g. a request through a VPC endpoint


def test_arn_like_matches_component_by_component_unlike_string_like() -> None:
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt"
    assert condition_holds({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert not condition_holds({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})


# --- IAM User Guide, "Creating a condition that tests multiple key values (set operations)"


def test_for_all_values_dynamodb_attributes() -> None:
    condition = {
        "ForAllValues:StringLike": {
            "dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]
        }
    }
    key = "dynamodb:requestedAttributes"
    assert condition_holds(condition, {key: ["PostDateTime", "Message"]})
    assert not condition_holds(condition, {key: ["PostDateTime", "UserName"]})
    # an empty data set (or a missing key): ForAllValues is true
    assert condition_holds(condition, {key: []})
    assert condition_holds(condition, {key: ""})
    assert condition_holds(condition)


def test_for_any_value_deny_on_put_item() -> None:
    statement = deny(
        "dynamodb:PutItem",
        Condition={
            "ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}
        },
    )
    policies = [doc(allow("dynamodb:*"), statement)]
    put = {"action": "dynamodb:PutItem", "resource": "*", "identity": policies}
    key = "dynamodb:requestedAttributes"
    assert kind(**put, context={key: ["UserName", "Message", "PostDateTime"]}) is EXPLICIT
    assert kind(**put, context={key: ["UserName"]}) is ALLOW
    assert kind(**put, context={key: []}) is ALLOW  # ForAnyValue on an empty set is false


# --- IAM User Guide, "Conditions with multiple context keys or values" (evaluation logic)


def test_multiple_operators_and_keys_are_anded_values_ored_negated_nored() -> None:
    both = {
        "StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "aws:RequestedRegion": "eu-west-1"}
    }
    assert condition_holds(both, {"aws:PrincipalTag/team": "b", "aws:RequestedRegion": "eu-west-1"})
    assert not condition_holds(both, {"aws:PrincipalTag/team": "b"})
    nor = {"StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]}}
    assert condition_holds(nor, {"aws:PrincipalTag/team": "c"})
    assert not condition_holds(nor, {"aws:PrincipalTag/team": "a"})


# --- IAM User Guide, "IAM policy elements: Variables and tags"


def test_username_variable_in_resource() -> None:
    home = doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::mybucket/${aws:username}/*"))
    david = f"arn:aws:iam::{ACCOUNT}:user/David"
    own = "arn:aws:s3:::mybucket/David/notes.txt"
    assert kind(principal=david, resource=own, identity=[home]) is ALLOW
    other = "arn:aws:s3:::mybucket/Adele/notes.txt"
    assert kind(principal=david, resource=other, identity=[home]) is IMPLICIT


def test_variables_are_literal_without_the_2012_version() -> None:
    legacy = doc(allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/*"), version=None)
    david = f"arn:aws:iam::{ACCOUNT}:user/David"
    assert (
        kind(principal=david, resource="arn:aws:s3:::mybucket/David/x", identity=[legacy])
        is IMPLICIT
    )
    literal = "arn:aws:s3:::mybucket/${aws:username}/x"
    assert kind(principal=david, resource=literal, identity=[legacy]) is ALLOW


def test_tag_variable_special_characters_and_defaults() -> None:
    dept = doc(allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/department}"))
    hr = {"department": "hr"}
    assert kind(resource="arn:aws:s3:::bucket/hr", identity=[dept], tags=hr) is ALLOW
    assert kind(resource="arn:aws:s3:::bucket/hr", identity=[dept]) is IMPLICIT  # no tag
    star = doc(allow("s3:*", "arn:aws:s3:::bucket/a${*}b"))  # a literal asterisk
    assert kind(resource="arn:aws:s3:::bucket/a*b", identity=[star]) is ALLOW
    assert kind(resource="arn:aws:s3:::bucket/axyzb", identity=[star]) is IMPLICIT
    default = doc(allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/department, 'shared'}"))
    assert kind(resource="arn:aws:s3:::bucket/shared", identity=[default]) is ALLOW


# --- IAM User Guide, "AWS JSON policy elements: NotPrincipal"


def test_notprincipal_deny_exempts_only_fully_listed_principals() -> None:
    bob = f"arn:aws:iam::{OTHER}:user/Bob"
    listed = doc(
        allow("s3:*", KEY, Principal={"AWS": OTHER}),
        deny("s3:*", KEY, NotPrincipal={"AWS": [bob, f"arn:aws:iam::{OTHER}:root"]}),
    )
    cross = {"resource_account": ACCOUNT, "identity": [doc(allow())], "resource_policy": listed}
    assert kind(principal=bob, **cross) is ALLOW
    assert kind(principal=f"arn:aws:iam::{OTHER}:user/eve", **cross) is EXPLICIT
    # without the account ARN, the account (and so Bob) is denied
    bob_only = doc(
        allow("s3:*", KEY, Principal={"AWS": OTHER}),
        deny("s3:*", KEY, NotPrincipal={"AWS": [bob]}),
    )
    assert kind(principal=bob, **{**cross, "resource_policy": bob_only}) is EXPLICIT


def test_notprincipal_deny_for_an_assumed_role_session() -> None:
    session = f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/audit-app"
    role = f"arn:aws:iam::{OTHER}:role/cross-account-read-only-role"
    policy = doc(
        allow("s3:*", KEY, Principal={"AWS": OTHER}),
        deny("s3:*", KEY, NotPrincipal={"AWS": [session, role, f"arn:aws:iam::{OTHER}:root"]}),
    )
    cross = {"resource_account": ACCOUNT, "identity": [doc(allow())], "resource_policy": policy}
    assert kind(principal=session, **cross) is ALLOW
    other_session = f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/other"
    assert kind(principal=other_session, **cross) is EXPLICIT


def test_version_constant_is_the_current_language() -> None:
    assert V == "2012-10-17"
