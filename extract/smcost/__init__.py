"""smcost: SageMaker cost attribution — demo account generator, metadata extractor and CLI."""

__version__ = "0.1.0"
