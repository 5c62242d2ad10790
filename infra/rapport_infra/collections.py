"""Where DebiCheck collection files wait for the SFTP connector that sends them to Stitch.

Always in the stack, whether or not the client collects through Stitch yet: the operator creates
the Transfer Family SFTP connector with this stack's access role and credentials secret, then names
the connector in the client file, which adds the schedule and the function's right to start
transfers (``rapport_infra.schedules.CollectionSchedule``, ``rapport_infra.permissions``). Until
then the bucket stays empty and the role unused.

- The bucket: private (every public access blocked, objects owned by the bucket owner), TLS only,
  encrypted by default with the client key (S3 Bucket Key on), files expired after
  :data:`RETENTION_DAYS`, retained when the stack is deleted.
- The connector's access role, assumed by Transfer Family from this account only: it may read the
  outgoing files (and decrypt them through S3) and read its SFTP credentials secret, nothing else.
- The credentials secret ``rapport/<client_id>/stitch-sftp`` (client key), holding a generated
  placeholder until the operator writes the user name and private key Stitch issued.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from rapport.payments.collection_delivery import OUTGOING

# NOTE: the plans keep what each file held (and can rebuild it), and Stitch answers each file with
# REPLY and OUTPUT files; the bucket copy is evidence of what was sent. Thirteen months outlasts a
# year's disputes; a client bound to keep it longer raises this.
RETENTION_DAYS = 400


def sftp_secret_name(client_id: str) -> str:
    return f"rapport/{client_id}/stitch-sftp"


class CollectionFiles(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, client_id: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self, "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(
                id="ExpireCollectionFiles",
                expiration=Duration.days(RETENTION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.sftp_secret = secretsmanager.Secret(
            self, "SftpSecret",
            secret_name=sftp_secret_name(client_id),
            description=f"SFTP credentials Stitch issued to {client_id} (Username, PrivateKey) for its connector",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # A placeholder user name, not a credential: the operator writes the one Stitch issued.
                secret_string_template='{"Username": "replace-with-the-stitch-sftp-user"}',  # noqa: S106
                generate_string_key="PrivateKey",
                exclude_punctuation=True,
                password_length=48,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.connector_role = iam.Role(
            self, "ConnectorRole",
            assumed_by=iam.ServicePrincipal(
                "transfer.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"The Transfer Family SFTP connector of {client_id}: reads outgoing collection files",
        )
        self.connector_role.add_to_policy(iam.PolicyStatement(
            sid="ReadOutgoingCollectionFiles", actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[self.bucket.arn_for_objects(f"{OUTGOING}*")],
        ))
        self.connector_role.add_to_policy(iam.PolicyStatement(
            sid="ReadSftpCredentials", actions=["secretsmanager:GetSecretValue"],
            resources=[self.sftp_secret.secret_arn],
        ))
        self.connector_role.add_to_policy(iam.PolicyStatement(
            sid="ClientKeyViaServices", actions=["kms:Decrypt"], resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": [
                f"s3.{Aws.REGION}.amazonaws.com", f"secretsmanager.{Aws.REGION}.amazonaws.com",
            ]}},
        ))
