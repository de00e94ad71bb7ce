"""Deployment artefacts: TFLite conversion, file sizes, interpreter latency, the size table."""
