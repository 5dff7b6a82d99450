"""Files in S3 live under each company's prefix (moto stands in for S3, in process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.core.files.base import ContentFile
from moto import mock_aws

from relata.storage import CompanyS3Storage


@pytest.fixture
def bucket(monkeypatch: Any) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("s3", region_name="eu-central-1").create_bucket(
            Bucket="relata-files", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        yield "relata-files"


def test_each_company_writes_under_its_own_prefix(two_companies: Any, bucket: str) -> None:
    a, b = two_companies
    storage = CompanyS3Storage(bucket_name=bucket, region_name="eu-central-1")
    with a:
        name = storage.save("contracts/offer.txt", ContentFile(b"A's offer"))
        assert storage.exists(name)
        url = storage.url(name)
    with b:
        assert not storage.exists(name)
        storage.save("contracts/offer.txt", ContentFile(b"B's offer"))
    keys = sorted(
        item["Key"]
        for item in boto3.client("s3", region_name="eu-central-1").list_objects_v2(Bucket=bucket)[
            "Contents"
        ]
    )
    assert keys == sorted(
        [
            f"{a.company.schema_name}/contracts/offer.txt",
            f"{b.company.schema_name}/contracts/offer.txt",
        ]
    )
    assert f"/{a.company.schema_name}/contracts/offer.txt" in url
    assert "Signature=" in url or "X-Amz-Signature=" in url  # private bucket: signed links
