-- Example queries for Grafana's PostgreSQL data source over factorytwin's store (PostgreSQL backend).
-- Tables: machines(num, id, name, kind, line, ...), sensors(num, key), readings(machine, sensor, ts ms, value),
-- rollup_1m(machine, sensor, minute, vmin, vmax, vsum, n), events(id, machine_id, ts ms, kind, status, message,
-- data jsonb), alarms(id, machine_id, type, severity, state, message, sensor, value, raised_at ms, ...).
-- Times are milliseconds since the epoch: $__unixEpochFrom() and $__unixEpochTo() are seconds.

-- 1. One sensor of one machine over time, from the one-minute rollup (time series panel).
SELECT to_timestamp(r.minute * 60) AS time, r.vsum / r.n AS value, m.id AS metric
FROM rollup_1m r JOIN machines m ON m.num = r.machine JOIN sensors s ON s.num = r.sensor
WHERE m.id IN ($machine) AND s.key = '$sensor'
  AND r.minute >= $__unixEpochFrom() / 60 AND r.minute < $__unixEpochTo() / 60
ORDER BY 1;

-- 2. Raw readings (short ranges only).
SELECT to_timestamp(r.ts / 1000.0) AS time, r.value, m.id AS metric
FROM readings r JOIN machines m ON m.num = r.machine JOIN sensors s ON s.num = r.sensor
WHERE m.id = '$machine' AND s.key = '$sensor'
  AND r.ts >= $__unixEpochFrom() * 1000 AND r.ts < $__unixEpochTo() * 1000
ORDER BY 1;

-- 3. Failures, maintenance and commands as annotations.
SELECT ts AS time, kind || ' ' || machine_id AS text, kind AS tags
FROM events
WHERE kind IN ('fault', 'maintenance', 'command') AND machine_id IN ($machine)
  AND ts >= $__unixEpochFrom() * 1000 AND ts < $__unixEpochTo() * 1000;

-- 4. Parts and scrap per hour and machine (production reports).
SELECT to_timestamp(floor(ts / 3600000.0) * 3600) AS time, machine_id AS metric,
       sum((data->>'parts_total')::int) AS parts, sum((data->>'parts_bad')::int) AS bad
FROM events
WHERE kind = 'production' AND ts >= $__unixEpochFrom() * 1000 AND ts < $__unixEpochTo() * 1000
GROUP BY 1, 2 ORDER BY 1;

-- 5. Quality (first pass yield) per machine over the range (bar gauge).
SELECT machine_id AS metric,
       1 - sum((data->>'parts_bad')::float) / nullif(sum((data->>'parts_total')::float), 0) AS quality
FROM events
WHERE kind = 'production' AND ts >= $__unixEpochFrom() * 1000 AND ts < $__unixEpochTo() * 1000
GROUP BY 1 ORDER BY 1;

-- 6. Failures by mode over the range (pie chart / Pareto).
SELECT coalesce(data->>'mode', 'unknown') AS mode, count(*) AS failures
FROM events
WHERE kind = 'fault' AND ts >= $__unixEpochFrom() * 1000 AND ts < $__unixEpochTo() * 1000
GROUP BY 1 ORDER BY 2 DESC;

-- 7. Alarms raised per hour by severity.
SELECT to_timestamp(floor(raised_at / 3600000.0) * 3600) AS time, severity AS metric, count(*) AS alarms
FROM alarms
WHERE raised_at >= $__unixEpochFrom() * 1000 AND raised_at < $__unixEpochTo() * 1000
GROUP BY 1, 2 ORDER BY 1;

-- 8. The event log (table panel).
SELECT to_timestamp(ts / 1000.0) AS time, machine_id, kind, status, message
FROM events
WHERE ts >= $__unixEpochFrom() * 1000 AND ts < $__unixEpochTo() * 1000
ORDER BY ts DESC LIMIT 500;
