"""Messages to and from debtors: templates, channels, inbound replies."""
