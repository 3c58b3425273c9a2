// Node-RED settings for running the factorytwin sensor-simulation flow headless (tests, demos).
// Everything that differs between runs comes from the environment:
//   FT_NODERED_PORT (1880)  FT_NODERED_HOST (127.0.0.1)  FT_NODERED_LOG (info)
// The flow itself reads FT_API_URL, FT_MQTT_HOST, FT_MQTT_PORT, FT_MACHINE_ID, FT_NODERED_TRANSPORT.
// Defaults for the flow's environment variables (Node-RED leaves an unset ${VAR} as it is).
process.env.FT_MQTT_HOST = process.env.FT_MQTT_HOST || "127.0.0.1";
process.env.FT_MQTT_PORT = process.env.FT_MQTT_PORT || "1883";

module.exports = {
    uiHost: process.env.FT_NODERED_HOST || "127.0.0.1",
    uiPort: parseInt(process.env.FT_NODERED_PORT || "1880", 10),
    flowFile: "flows.json",
    flowFilePretty: true,
    credentialSecret: false,
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: {
        console: { level: process.env.FT_NODERED_LOG || "info", metrics: false, audit: false },
    },
    functionExternalModules: false,
};
