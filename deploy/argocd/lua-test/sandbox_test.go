package luatest

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The sandbox must refuse what Argo CD's refuses, or a script could pass here and fail there.
func TestSandboxMatchesArgoCD(t *testing.T) {
	obj := map[string]any{"metadata": map[string]any{"generation": float64(3)}}
	now := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	cases := []struct {
		name, script string
		openLibs     bool
		want         string // the returned value as a string, or the start of the error
	}{
		{"no string library", `return string.format("%d", 1)`, false, "error"},
		{"no string methods", `return ("x"):upper()`, false, "error"},
		{"no math library", `return math.floor(1.5)`, false, "error"},
		{"no io", `return io.open("/etc/hostname")`, false, "error"},
		{"no os.execute", `return os.execute("true")`, false, "error"},
		{"no os.getenv", `return os.getenv("HOME")`, false, "error"},
		{"string library when opened", `return string.format("%d", 1)`, true, "1"},
		{"length of a string", `return #"hotfix"`, false, "6"},
		{"whole numbers concatenate without a decimal point", `return "gen " .. obj.metadata.generation`, false, "gen 3"},
		{"os.time", `return os.time()`, false, "1795345200"},
		{"os through require", `local o = require("os") return o.time()`, false, "1795345200"},
		{"actionParams exists for every script", `return type(actionParams)`, false, "table"},
		{"table library", `local t = {} table.insert(t, "a") return table.concat(t, ",")`, false, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			value, err := sandbox{openLibs: c.openLibs, now: func() time.Time { return now }}.execute(c.script, obj)
			got := ""
			if err != nil {
				got = "error: " + err.Error()
			} else {
				got = lua.LVAsString(value)
				if value.Type() == lua.LTNil {
					got = "nil"
				}
			}
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestSandboxStopsARunawayScript(t *testing.T) {
	start := time.Now()
	_, err := sandbox{now: time.Now}.execute(`while true do end`, map[string]any{})
	if err == nil {
		t.Fatal("an endless loop returned")
	}
	if elapsed := time.Since(start); elapsed > 3*scriptTimeout {
		t.Fatalf("stopped after %v", elapsed)
	}
}

// Argo CD's os.date drops "!" when given a time; a script relying on it would write local time as UTC.
func TestOsDateWithATimeIsLocal(t *testing.T) {
	saved := time.Local
	time.Local = time.FixedZone("UTC+2", 2*3600)
	defer func() { time.Local = saved }()
	value, err := sandbox{now: time.Now}.execute(`return os.date("!%H:%M", 0)`, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if got := lua.LVAsString(value); got != "02:00" {
		t.Fatalf("got %q, want the local 02:00", got)
	}
}
