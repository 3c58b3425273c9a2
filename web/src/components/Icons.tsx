// Inline line icons (no icon font or download).

const base = {
  fill: "none",
  stroke: "currentColor",
  strokeWidth: 1.7,
  strokeLinecap: "round",
  strokeLinejoin: "round",
} as const;

export const FloorIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M3 9l9-5 9 5-9 5-9-5z" />
    <path d="M3 14l9 5 9-5" />
  </svg>
);
export const OverviewIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <rect x="3" y="3" width="7" height="9" rx="1" />
    <rect x="14" y="3" width="7" height="5" rx="1" />
    <rect x="14" y="12" width="7" height="9" rx="1" />
    <rect x="3" y="16" width="7" height="5" rx="1" />
  </svg>
);
export const HistoryIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M3 3v18h18" />
    <path d="M7 15l4-5 3 3 5-7" />
  </svg>
);
export const BellIcon = () => (
  <svg viewBox="0 0 24 24" {...base} width="15" height="15">
    <path d="M6 8a6 6 0 1112 0c0 7 3 9 3 9H3s3-2 3-9" />
    <path d="M10.3 21a1.94 1.94 0 003.4 0" />
  </svg>
);
export const AuditIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6l8-3z" />
    <path d="M8.5 12l2.5 2.5 4.5-5" />
  </svg>
);
export const WrenchIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M14.5 6.5a4 4 0 0 0 5 5L13 18a2.1 2.1 0 0 1-3-3l6.5-6.5a4 4 0 0 0-2-2z" />
    <path d="M5 19l3-3" />
  </svg>
);
export const KpiIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M4 20h16" />
    <rect x="5" y="11" width="3" height="6" rx="0.5" />
    <rect x="10.5" y="7" width="3" height="10" rx="0.5" />
    <rect x="16" y="4" width="3" height="13" rx="0.5" />
  </svg>
);

export const WhatIfIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M4 18c4 0 5-6 8-6s4 4 8 4" />
    <path d="M4 18c4 0 5-11 8-11s4 3 8 2" opacity="0.5" />
    <path d="M4 4v16h16" />
  </svg>
);
export const CubeIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M12 3l8 4.5v9L12 21l-8-4.5v-9L12 3z" />
    <path d="M4 7.5l8 4.5 8-4.5M12 12v9" />
  </svg>
);
export const PlugIcon = () => (
  <svg viewBox="0 0 24 24" {...base}>
    <path d="M9 3v5M15 3v5" />
    <path d="M6 8h12v3a6 6 0 0 1-12 0V8z" />
    <path d="M12 17v4" />
  </svg>
);
