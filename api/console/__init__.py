"""The staff console (api.console.routes): server-rendered pages over the API's own logic."""
