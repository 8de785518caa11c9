"""Storage for datasketch's MinHashLSH sized for millions of keys (loaded only with datasketch).

datasketch's default dict-of-sets storage keeps a 216-byte set per bucket, about 3 KB a key
with 14 bands, which runs a million texts out of a 4 GB budget. Here a bucket holds one int
key, or a list once a second key arrives, and the key->bands map is not kept (the gate never
removes a key). Both classes implement datasketch's own storage interface.
"""

from __future__ import annotations

from typing import Any

from datasketch.storage import OrderedStorage, UnorderedStorage

from sentiforge.errors import QualityError


class CompactBuckets(UnorderedStorage):
    def __init__(self) -> None:
        self._dict: dict[Any, Any] = {}

    def keys(self) -> Any:
        return self._dict.keys()

    def get(self, key: Any) -> Any:
        found = self._dict.get(key, ())
        return (found,) if isinstance(found, int) else found

    def insert(self, key: Any, *vals: Any, **kwargs: Any) -> None:
        for val in vals:
            found = self._dict.get(key)
            if found is None:
                self._dict[key] = val
            elif isinstance(found, int):
                self._dict[key] = [found, val]
            else:
                found.append(val)

    def remove(self, *keys: Any, **kwargs: Any) -> None:
        for key in keys:
            self._dict.pop(key, None)

    def remove_val(self, key: Any, val: Any, **kwargs: Any) -> None:
        kept = [v for v in self.get(key) if v != val]
        self.remove(key)
        if kept:
            self.insert(key, *kept)

    def size(self) -> int:
        return len(self._dict)

    def itemcounts(self, **kwargs: Any) -> dict[Any, int]:
        return {k: len(self.get(k)) for k in self._dict}

    def has_key(self, key: Any) -> bool:
        return key in self._dict


class NoKeys(OrderedStorage):
    def keys(self) -> Any:
        return ()

    def get(self, key: Any) -> Any:
        return []

    def insert(self, key: Any, *vals: Any, **kwargs: Any) -> None:
        return None

    def remove(self, *keys: Any, **kwargs: Any) -> None:
        raise QualityError("this MinHash index does not support removal")

    def remove_val(self, key: Any, val: Any, **kwargs: Any) -> None:
        raise QualityError("this MinHash index does not support removal")

    def size(self) -> int:
        return 0

    def itemcounts(self, **kwargs: Any) -> dict[Any, int]:
        return {}

    def has_key(self, key: Any) -> bool:
        return False
