// Starts Swagger UI on the app's OpenAPI document (a file, not an inline script: the page's CSP allows no inline code).
window.ui = SwaggerUIBundle({
  url: document.body.dataset.openapi,
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
});
