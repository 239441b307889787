"""The toolkit an Azure ML GitOps experiment repo runs, locally and in its workflows."""

__version__ = "0.1.0"
