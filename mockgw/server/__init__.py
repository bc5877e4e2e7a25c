"""The only aiohttp importers: the app, API routes, control endpoint, fault injection at the socket, holds, runner."""
