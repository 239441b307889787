"""The toolkit an Azure ML GitOps experiment repo runs, locally and in its workflows."""

__version__ = "0.1.0"

__all__ = ["AzureMLRun"]


def __getattr__(name: str):
    """``from mlops import AzureMLRun`` without importing it (and its dependencies) for every command."""
    if name == "AzureMLRun":
        from mlops.notebook import AzureMLRun

        return AzureMLRun
    raise AttributeError(f"module 'mlops' has no attribute {name!r}")
