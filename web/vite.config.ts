/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The dashboard is served by the FastAPI app at /, so it is built straight into the Python package.
// In `npm run dev`, API and WebSocket calls are proxied to a running `factorytwin serve` (FT_API, default :8000).
declare const process: { env: Record<string, string | undefined> };
const api = process.env.FT_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/factorytwin/api/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes("node_modules/three")) return "three";
          if (id.includes("node_modules/uplot")) return "uplot";
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target: api, ws: true, changeOrigin: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
