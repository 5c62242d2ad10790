"""Collection files to Stitch's SFTP server: written to the client's bucket, sent by an AWS Transfer
Family SFTP connector.

The connector (created by the operator with Stitch's host key and the SFTP credentials Stitch
issues) copies an S3 object to the remote directory when asked with ``StartFileTransfer``; it reads
the object itself, with its own access role. Layout in the bucket::

    debicheck/outgoing/<file name>        the file as sent (SSE-KMS with the client key, the bucket's default)
    debicheck/sent/<file name>.json       written once StartFileTransfer accepted it: its transfer id

A file whose ``sent`` marker is missing was not (known to be) handed to the connector, and is sent
again by the next run. The bucket encrypts with the client key by default, so no encryption header
is sent here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

logger = Logger(child=True)

PREFIX = "debicheck/"
OUTGOING = PREFIX + "outgoing/"
SENT = PREFIX + "sent/"
# S3 answers a conditional put whose key exists with 412, or 409 when another put of it is in flight.
_TAKEN = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})


class CollectionDeliveryError(Exception):
    """A collection file could not be stored or handed to the SFTP connector."""


class CollectionDelivery(Protocol):
    """Our port to wherever collection files go (the bucket and the connector, or a test's fake)."""

    def reserve(self, name: str, body: bytes) -> bool:
        """Store a new file; False when a file of that name already exists."""
        ...

    def write(self, name: str, body: bytes) -> None:
        """Store (or replace) a file that is ours and not yet sent."""
        ...

    def is_sent(self, name: str) -> bool: ...

    def send(self, name: str) -> str:
        """Hand the stored file to the SFTP connector; the transfer's id."""
        ...

    def mark_sent(self, name: str, transfer_id: str, at: datetime) -> None: ...


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3TransferDelivery:
    """``CollectionDelivery`` on S3 and a Transfer Family SFTP connector (boto3 clients)."""

    def __init__(
        self, s3: Any, transfer: Any, *, bucket: str, connector_id: str, remote_directory: str
    ) -> None:
        if not bucket:
            raise ValueError("no collections bucket is configured")
        self._s3 = s3
        self._transfer = transfer
        self.bucket = bucket
        self.connector_id = connector_id
        self.remote_directory = remote_directory

    @staticmethod
    def key(name: str) -> str:
        return OUTGOING + name

    def reserve(self, name: str, body: bytes) -> bool:
        try:
            self._put(self.key(name), body, IfNoneMatch="*")
        except ClientError as error:
            if _code(error) in _TAKEN:
                return False
            raise CollectionDeliveryError(f"storing the collection file failed: {_code(error)}") from error
        return True

    def write(self, name: str, body: bytes) -> None:
        try:
            self._put(self.key(name), body)
        except ClientError as error:
            raise CollectionDeliveryError(f"storing the collection file failed: {_code(error)}") from error

    def is_sent(self, name: str) -> bool:
        # A listing of the marker's own key, not a HEAD: the function may list only the markers'
        # prefix (a condition on s3:prefix), and needs no right to read any object.
        marker = f"{SENT}{name}.json"
        try:
            listed = self._s3.list_objects_v2(Bucket=self.bucket, Prefix=marker, MaxKeys=1)
        except ClientError as error:
            raise CollectionDeliveryError(f"looking for the sent marker failed: {_code(error)}") from error
        return any(item.get("Key") == marker for item in listed.get("Contents", ()))

    def send(self, name: str) -> str:
        # The connector takes "/<bucket>/<key>" (the Transfer Family user guide's form).
        try:
            answer = self._transfer.start_file_transfer(
                ConnectorId=self.connector_id,
                SendFilePaths=[f"/{self.bucket}/{self.key(name)}"],
                RemoteDirectoryPath=self.remote_directory,
            )
        except ClientError as error:
            raise CollectionDeliveryError(f"the SFTP connector refused the file: {_code(error)}") from error
        transfer_id = str(answer["TransferId"])
        logger.info("collection file handed to the sftp connector", extra={"file": name, "transfer_id": transfer_id})
        return transfer_id

    def mark_sent(self, name: str, transfer_id: str, at: datetime) -> None:
        marker = {"file": name, "transfer_id": transfer_id, "sent_at": at.isoformat()}
        try:
            self._put(f"{SENT}{name}.json", json.dumps(marker, sort_keys=True).encode(), "application/json")
        except ClientError as error:
            raise CollectionDeliveryError(f"writing the sent marker failed: {_code(error)}") from error

    def _put(self, key: str, body: bytes, content_type: str = "text/csv", **conditions: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **conditions)
