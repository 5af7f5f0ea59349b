"""Notifications: in-app messages now; SMS, e-mail and robot channels come with issue #6."""
