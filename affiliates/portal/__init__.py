"""The web portals for publishers, advertisers and network staff (server-rendered templates).

Each app owns the pages for its domain in a ``portal/`` subpackage; this one holds the shared
shell (access control, navigation, charts) and the affiliate pages: accounts, offers, access.
"""
