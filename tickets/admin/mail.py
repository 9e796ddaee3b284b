"""Inbound e-mail (quarantine) and IMAP mailboxes in the admin."""
