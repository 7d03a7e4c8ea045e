"""The oversight report: content, languages, fonts, HTML and PDF."""
