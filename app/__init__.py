"""The auditors' Streamlit app (imported as ``audit_app``; the folder is ``app/``).

It calls the toolkit's public API only: the numbers it shows are those
``audit run`` prints for the same spec and data. Start it with ``audit app``.
"""
