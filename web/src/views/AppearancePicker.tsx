// How a profile's machines are drawn: a built-in model, a box/cylinder of a size and colour, or an uploaded glTF.

import { useState } from "react";
import { api } from "../api/client";
import type { ProfileBody } from "../api/types";
import { errorText } from "../hooks/usePolling";

type Appearance = ProfileBody["appearance"];
const BUILTIN = ["cnc_mill", "lathe", "hydraulic_press", "pump", "air_compressor", "conveyor", "robot_arm"] as const;

export function AppearancePicker({
  value,
  ro,
  onChange,
}: {
  value: Appearance;
  ro: boolean;
  onChange: (a: Appearance) => void;
}) {
  const [upload, setUpload] = useState<string | null>(null);
  const kind = (k: string): void => {
    if (k === "builtin") onChange({ kind: "builtin", model: "pump" });
    else if (k === "primitive")
      onChange({ kind: "primitive", shape: "box", width: 1.5, height: 1.5, depth: 1.5, color: "#8c939c" });
    else onChange({ kind: "gltf", asset_id: value.kind === "gltf" ? value.asset_id : "" });
  };
  const send = (file: File): void => {
    setUpload(`Uploading ${file.name}…`);
    api.uploadAsset(file, file.name).then(
      (a) => {
        setUpload(`Uploaded ${a.name} (${a.size} bytes) as ${a.id}.`);
        onChange({ kind: "gltf", asset_id: a.id });
      },
      (e: unknown) => setUpload(`Not uploaded: ${errorText(e)}`),
    );
  };
  return (
    <div className="appearance" data-testid="appearance">
      <select
        value={value.kind}
        disabled={ro}
        onChange={(e) => kind(e.target.value)}
        data-testid="appearance-kind"
        aria-label="appearance"
      >
        <option value="builtin">built-in model</option>
        <option value="primitive">box / cylinder</option>
        <option value="gltf">uploaded glTF model</option>
      </select>
      {value.kind === "builtin" && (
        <select
          value={value.model}
          disabled={ro}
          onChange={(e) => onChange({ ...value, model: e.target.value })}
          aria-label="model"
        >
          {BUILTIN.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      )}
      {value.kind === "primitive" && (
        <>
          <select
            value={value.shape}
            disabled={ro}
            onChange={(e) => onChange({ ...value, shape: e.target.value as "box" | "cylinder" })}
            aria-label="shape"
          >
            <option>box</option>
            <option>cylinder</option>
          </select>
          {(["width", "height", "depth"] as const).map((f) => (
            <label key={f}>
              {f} m
              <input
                type="number"
                step="0.1"
                value={value[f]}
                disabled={ro}
                onChange={(e) => onChange({ ...value, [f]: Number(e.target.value) })}
                data-testid={`appearance-${f}`}
              />
            </label>
          ))}
          <input
            type="color"
            value={value.color ?? "#8c939c"}
            disabled={ro}
            onChange={(e) => onChange({ ...value, color: e.target.value })}
            aria-label="colour"
          />
        </>
      )}
      {value.kind === "gltf" && (
        <>
          <span className="faint" data-testid="appearance-asset">
            {value.asset_id ? `asset ${value.asset_id}` : "no model yet"}
          </span>
          {!ro && (
            <input
              type="file"
              accept=".glb,.gltf,model/gltf-binary,model/gltf+json"
              onChange={(e) => e.target.files?.[0] && send(e.target.files[0])}
              data-testid="appearance-upload"
              aria-label="glTF file"
            />
          )}
          {upload && <span data-testid="upload-state">{upload}</span>}
        </>
      )}
    </div>
  );
}
