"""A model's tabs (see ``catalog.tabs``): its card first, then its versions; lineage, issues and history are the
catalog's, shared with every asset. Registered from ``RegistryConfig.ready``."""

from catalog.choices import AssetKind
from catalog.tabs import Tab, register

MODEL = frozenset({AssetKind.MODEL})


def register_tabs():
    register(Tab("card", "Card", "registry/model_detail.html", kinds=MODEL, order=0,
                 url_name="registry:model_detail", slug_only=True))  # fmt: skip
    register(Tab("versions", "Versions", "registry/model_versions.html", kinds=MODEL, order=10,
                 url_name="registry:model_versions", slug_only=True))  # fmt: skip
