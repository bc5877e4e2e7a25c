"""The web inspector's pure half: the static page (static/) and the view-models it shows, made from journal JSON.

Nothing here touches a socket: server/ui.py serves the files and these view-models over HTTP.
"""
