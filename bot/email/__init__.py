"""The e-mail connector and its signed one-tap answer links (issue 27)."""
