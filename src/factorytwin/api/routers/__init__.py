"""One router module per resource; ``factorytwin.api.app.ROUTERS`` lists the ones the app serves."""
