package luatest

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

const overrideAction = root + "/tollgate.dev/PerformanceProfile/actions/override-freeze/action.lua"

func profile() map[string]any {
	return map[string]any{
		"apiVersion": "tollgate.dev/v1alpha1",
		"kind":       "PerformanceProfile",
		"metadata":   map[string]any{"name": "game-service", "namespace": "games"},
	}
}

// The annotation as Tollgate's parser reads it (JSON.parse, like encoding/json, keeps the last of duplicate keys).
func override(t *testing.T, params map[string]string, now time.Time) (map[string]any, error) {
	t.Helper()
	out, err := runAction(readText(t, filepath.Clean(overrideAction)), profile(), params, now)
	if err != nil {
		t.Fatal(err)
	}
	value := lookup(out, "metadata", "annotations", "tollgate.dev/override-freeze").(string)
	var parsed map[string]any
	return parsed, json.Unmarshal([]byte(value), &parsed)
}

// The script turns Unix seconds into a date with integer arithmetic; check it against Go's calendar
// across leap days, century years and year ends, and every few days for three centuries.
func TestOverrideExpiryIsUTC(t *testing.T) {
	var edges []time.Time
	for _, s := range []string{
		"1970-01-01T00:00:00Z", "1999-12-31T23:30:00Z", "2000-02-28T23:00:00Z", "2000-02-29T23:59:59Z",
		"2024-02-28T23:30:00Z", "2026-11-22T11:00:00Z", "2026-12-31T23:00:00Z", "2100-02-28T23:30:00Z",
		"2400-02-29T23:00:00Z",
	} {
		at, _ := time.Parse(time.RFC3339, s)
		edges = append(edges, at)
	}
	check := func(now time.Time, minutes string) {
		got, err := override(t, map[string]string{"minutes": minutes}, now)
		if err != nil {
			t.Fatalf("at %s: the annotation is not JSON: %v", now, err)
		}
		m, _ := time.ParseDuration(minutes + "m")
		if want := now.Add(m).UTC().Format("2006-01-02T15:04:05Z"); got["expires"] != want {
			t.Fatalf("at %s + %s minutes: expires %v, want %s", now.Format(time.RFC3339), minutes, got["expires"], want)
		}
	}
	for _, now := range edges {
		for _, minutes := range []string{"1", "60", "1440"} {
			check(now, minutes)
		}
	}
	// Every 40 days and a bit, so the clock lands on every month, weekday and time of day.
	for at := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2270; at = at.Add(977*time.Hour + 13*time.Minute + 7*time.Second) {
		check(at, "60")
	}
}

// by and reason cannot be escaped without Lua's string library. A quote breaks the JSON, which Tollgate
// ignores (the freeze stays); text that adds its own "expires" loses to the one the action writes last.
func TestOverrideTextCannotExtendTheOverride(t *testing.T) {
	now := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	if _, err := override(t, map[string]string{"reason": `say "hi"`}, now); err == nil {
		t.Fatal(`a reason with '"' made valid JSON; the docs say Tollgate refuses it`)
	}
	got, err := override(t, map[string]string{"reason": `x","expires":"2099-01-01T00:00:00Z`, "by": `y","expires":"2099-01-01T00:00:00Z`}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got["expires"] != "2026-11-22T12:00:00Z" {
		t.Fatalf("expires %v, want the action's own 2026-11-22T12:00:00Z", got["expires"])
	}
}
