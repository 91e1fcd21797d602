"""cqc-assistant: cited answers over CQC assessments and LGA peer challenges for council adult social care teams."""

__version__ = "0.1.0"

__all__ = ["__version__"]
