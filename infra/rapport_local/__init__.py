"""The local cloud: moto plays AWS in-process and Lambda invokes run the real handlers."""
