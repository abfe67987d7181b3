"""The model catalog's item: `CONFIG / MODELS`, its compact JSON in `catalog`.

Terraform writes it from the environment's catalog file (`terraform/modules/parley`), the local
stack from its own; the functions only read it (`parley.catalog`). Never `CONV#`, so the change
feed never sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CATALOG_KEY = {"pk": "CONFIG", "sk": "MODELS"}


class CatalogRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self) -> str | None:
        """The catalog's JSON as stored, or None when the environment has none."""
        item = self.table.get_item(Key=CATALOG_KEY, ConsistentRead=True).get("Item")
        if item is None or not isinstance(item.get("catalog"), str):
            return None
        return str(item["catalog"])

    def put(self, document: str) -> None:
        """Store the catalog's JSON (the local stack and tests; Terraform in AWS)."""
        self.table.put_item(Item={**CATALOG_KEY, "catalog": document})
