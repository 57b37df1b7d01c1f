package luatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// root is Argo CD's resource_customizations layout: <group>/<Kind>/health.lua, health_test.yaml,
// testdata/, actions/discovery.lua, actions/<action>/action.lua, actions/action_test.yaml.
const root = "../resource_customizations"

// defaultNow is what os.time() returns in action cases that do not set `now`: the same every run, so the
// expected objects can hold the exact expiry an action writes.
var defaultNow = time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)

// validHealth is the set of statuses Argo CD accepts from a health script; anything else it shows as Unknown.
var validHealth = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

type healthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// healthTestFile is Argo CD's health_test.yaml.
type healthTestFile struct {
	Tests []struct {
		HealthStatus healthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

type actionParam struct {
	Name string `json:"name,omitempty"`
}

// resourceAction is what Argo CD lists for a resource: the fields it reads from discovery.lua.
type resourceAction struct {
	Name        string        `json:"name,omitempty"`
	Params      []actionParam `json:"params,omitempty"`
	Disabled    bool          `json:"disabled,omitempty"`
	IconClass   string        `json:"iconClass,omitempty"`
	DisplayName string        `json:"displayName,omitempty"`
}

// actionTestFile is Argo CD's action_test.yaml, plus `now`, which Argo CD's own runner ignores.
type actionTestFile struct {
	DiscoveryTests []struct {
		InputPath string           `json:"inputPath"`
		Result    []resourceAction `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action               string            `json:"action"`
		InputPath            string            `json:"inputPath"`
		ExpectedOutputPath   string            `json:"expectedOutputPath"`
		ExpectedErrorMessage string            `json:"expectedErrorMessage"`
		Parameters           map[string]string `json:"parameters"`
		// Now (RFC 3339) is the time os.time() returns in this case; defaultNow when empty.
		Now string `json:"now"`
	} `json:"actionTests"`
}

func TestResourceCustomizations(t *testing.T) {
	var healthCases, actionCases int
	used := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dir := filepath.Dir(path)
		switch d.Name() {
		case "health.lua":
			if _, err := os.Stat(filepath.Join(dir, "health_test.yaml")); err != nil {
				t.Errorf("%s has no health_test.yaml next to it", path)
			}
		case "discovery.lua":
			if _, err := os.Stat(filepath.Join(dir, "action_test.yaml")); err != nil {
				t.Errorf("%s has no action_test.yaml next to it", path)
			}
		case "health_test.yaml":
			healthCases += runHealthTests(t, dir, used)
		case "action_test.yaml":
			actionCases += runActionTests(t, dir, used)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	if healthCases == 0 || actionCases == 0 {
		t.Fatalf("found %d health and %d action cases under %s; expected both", healthCases, actionCases, root)
	}
	// Testdata nobody reads is testdata nobody checks.
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(path), "/testdata/") && !used[filepath.Clean(path)] {
			t.Errorf("%s is not used by any case", path)
		}
		return nil
	})
}

func runHealthTests(t *testing.T, dir string, used map[string]bool) int {
	var file healthTestFile
	readStrict(t, filepath.Join(dir, "health_test.yaml"), &file)
	script := readText(t, filepath.Join(dir, "health.lua"))
	key := groupKind(dir)
	for _, c := range file.Tests {
		input := filepath.Join(dir, c.InputPath)
		used[filepath.Clean(input)] = true
		t.Run("health/"+key+"/"+c.InputPath, func(t *testing.T) {
			if !validHealth[c.HealthStatus.Status] {
				t.Fatalf("expected status %q is not one Argo CD knows", c.HealthStatus.Status)
			}
			obj := readObject(t, input)
			checkKind(t, key, obj)
			// argocd-cm health checks run without the standard libraries unless useOpenLibs is set, and
			// built-in ones with them: the script must answer the same either way.
			for _, openLibs := range []bool{false, true} {
				got, err := evaluateHealth(script, obj, openLibs)
				if err != nil {
					t.Fatalf("health.lua (open libraries %v): %v", openLibs, err)
				}
				if got != c.HealthStatus {
					t.Errorf("health.lua (open libraries %v)\n got: %s: %s\nwant: %s: %s", openLibs, got.Status, got.Message, c.HealthStatus.Status, c.HealthStatus.Message)
				}
			}
		})
	}
	return len(file.Tests)
}

// evaluateHealth is Argo CD's reading of a health script's result.
func evaluateHealth(script string, obj map[string]any, openLibs bool) (healthStatus, error) {
	value, err := sandbox{openLibs: openLibs, now: func() time.Time { return defaultNow }}.execute(script, obj)
	if err != nil {
		return healthStatus{}, err
	}
	switch value.Type() {
	case lua.LTNil:
		return healthStatus{}, nil
	case lua.LTTable:
		data, err := fromLua(value)
		if err != nil {
			return healthStatus{}, err
		}
		var hs healthStatus
		if err := json.Unmarshal(data, &hs); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return healthStatus{}, nil
			}
			return healthStatus{}, err
		}
		if !validHealth[hs.Status] {
			return healthStatus{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
		}
		return hs, nil
	}
	return healthStatus{}, fmt.Errorf("expect table output from Lua script, not %s", value.Type())
}

func runActionTests(t *testing.T, dir string, used map[string]bool) int {
	var file actionTestFile
	readStrict(t, filepath.Join(dir, "action_test.yaml"), &file)
	discovery := readText(t, filepath.Join(dir, "discovery.lua"))
	key := groupKind(filepath.Dir(dir))
	defined := actionDirs(t, dir)
	for _, c := range file.DiscoveryTests {
		input := filepath.Join(dir, c.InputPath)
		used[filepath.Clean(input)] = true
		t.Run("discovery/"+key+"/"+c.InputPath, func(t *testing.T) {
			obj := readObject(t, input)
			checkKind(t, key, obj)
			got, err := discover(discovery, obj)
			if err != nil {
				t.Fatalf("discovery.lua: %v", err)
			}
			for _, a := range got {
				if !slices.Contains(defined, a.Name) {
					t.Errorf("discovery.lua offers %q, which has no %s/action.lua", a.Name, a.Name)
				}
			}
			want := slices.Clone(c.Result)
			sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("discovery.lua\n got: %s\nwant: %s", compact(got), compact(want))
			}
		})
	}
	tested := map[string]bool{}
	for _, c := range file.ActionTests {
		input := filepath.Join(dir, c.InputPath)
		used[filepath.Clean(input)] = true
		if c.ExpectedOutputPath != "" {
			used[filepath.Clean(filepath.Join(dir, c.ExpectedOutputPath))] = true
		}
		tested[c.Action] = true
		t.Run("action/"+key+"/"+c.Action+"/"+c.InputPath+paramSuffix(c.Parameters), func(t *testing.T) {
			if (c.ExpectedOutputPath == "") == (c.ExpectedErrorMessage == "") {
				t.Fatalf("a case needs exactly one of expectedOutputPath and expectedErrorMessage")
			}
			now := defaultNow
			if c.Now != "" {
				var err error
				if now, err = time.Parse(time.RFC3339, c.Now); err != nil {
					t.Fatalf("now: %v", err)
				}
			}
			script := readText(t, filepath.Join(dir, c.Action, "action.lua"))
			obj := readObject(t, input)
			checkKind(t, key, obj)
			got, err := runAction(script, obj, c.Parameters, now)
			if c.ExpectedErrorMessage != "" {
				if err == nil || err.Error() != c.ExpectedErrorMessage {
					t.Fatalf("%s/action.lua\n got error: %v\nwant error: %s", c.Action, err, c.ExpectedErrorMessage)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s/action.lua: %v", c.Action, err)
			}
			want := readObject(t, filepath.Join(dir, c.ExpectedOutputPath))
			if diffs := differences(normalise(t, want), normalise(t, got), ""); len(diffs) > 0 {
				t.Errorf("%s/action.lua returned an object that differs from %s:\n  %s", c.Action, c.ExpectedOutputPath, strings.Join(diffs, "\n  "))
			}
		})
	}
	for _, name := range defined {
		if !tested[name] {
			t.Errorf("%s/%s/action.lua has no case in action_test.yaml", dir, name)
		}
	}
	return len(file.DiscoveryTests) + len(file.ActionTests)
}

// tableOutput runs a script that must return a table, as discovery and action scripts do, and gives
// that table as JSON.
func tableOutput(sb sandbox, script string, obj map[string]any) ([]byte, error) {
	value, err := sb.execute(script, obj)
	if err != nil {
		return nil, err
	}
	if value.Type() != lua.LTTable {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", value.Type())
	}
	return fromLua(value)
}

// discover is Argo CD's reading of discovery.lua: a table of action name to its settings.
func discover(script string, obj map[string]any) ([]resourceAction, error) {
	data, err := tableOutput(sandbox{now: func() time.Time { return defaultNow }}, script, obj)
	if err != nil {
		return nil, err
	}
	if string(data) == "[]" {
		return nil, nil
	}
	var offered map[string]any
	if err := json.Unmarshal(data, &offered); err != nil {
		return nil, fmt.Errorf("error unmarshaling action table: %w", err)
	}
	actions := []resourceAction{}
	for name, settings := range offered {
		action := resourceAction{Name: name}
		if m, ok := settings.(map[string]any); ok {
			// Argo CD takes "disabled" only when it is a boolean, and reads the rest into the action.
			if disabled, ok := m["disabled"].(bool); ok {
				action.Disabled = disabled
			}
			raw, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(raw, &action); err != nil {
				return nil, fmt.Errorf("error unmarshaling resource action: %w", err)
			}
		}
		actions = append(actions, action)
	}
	sort.Slice(actions, func(i, j int) bool { return actions[i].Name < actions[j].Name })
	return actions, nil
}

// runAction is Argo CD's handling of an action that returns the changed object, which Argo CD then
// turns into a merge patch of the live one.
func runAction(script string, obj map[string]any, params map[string]string, now time.Time) (map[string]any, error) {
	data, err := tableOutput(sandbox{now: func() time.Time { return now }, params: params}, script, obj)
	if err != nil {
		return nil, err
	}
	if len(data) < 2 {
		return nil, errors.New("Lua output was not a valid json object or array")
	}
	if data[0] == '[' {
		return nil, errors.New("the action returned a list of impacted resources; this runner checks actions that return the changed object")
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	out = restoreEmptyObjects(out, obj)
	// Argo CD patches only the object the action was run on.
	for _, field := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "namespace"}} {
		if a, b := lookup(obj, field...), lookup(out, field...); a != b {
			return nil, fmt.Errorf("the action changed %s from %v to %v; Argo CD patches only the object it ran on", strings.Join(field, "."), a, b)
		}
	}
	return out, nil
}

// actionDirs lists the actions defined next to discovery.lua: the directories holding an action.lua.
func actionDirs(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "action.lua")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	return names
}

// groupKind is the <group>/<Kind> a customization directory stands for.
func groupKind(dir string) string {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return dir
	}
	return filepath.ToSlash(rel)
}

// checkKind makes sure the test object is of the kind whose directory it is in, as Argo CD looks scripts up by it.
func checkKind(t *testing.T, key string, obj map[string]any) {
	t.Helper()
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	want := kind
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		want = apiVersion[:i] + "/" + kind
	}
	if want != key {
		t.Fatalf("the object is a %s (apiVersion %q), but its customization directory is %s", want, apiVersion, key)
	}
}

func lookup(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func paramSuffix(params map[string]string) string {
	if len(params) == 0 {
		return ""
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := params[k]
		if len(v) > 24 {
			v = v[:24] + "…"
		}
		parts = append(parts, k+"="+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readStrict reads a test file and refuses unknown fields, so a misspelt key fails instead of being skipped.
func readStrict(t *testing.T, path string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(readText(t, path)), into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readObject reads a Kubernetes object as Argo CD's own test runner does (YAML to JSON, numbers as float64).
func readObject(t *testing.T, path string) map[string]any {
	t.Helper()
	obj := map[string]any{}
	if err := yaml.Unmarshal([]byte(readText(t, path)), &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// normalise passes a value through JSON, so numbers and empty values compare the way the API server stores them.
func normalise(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// differences lists where got departs from want, one path per line, so a failure says which field.
func differences(want, got any, path string) []string {
	if path == "" {
		path = "."
	}
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []string
		for _, k := range sorted {
			sub := strings.TrimSuffix(path, ".") + "." + k
			wv, win := wm[k]
			gv, gin := gm[k]
			switch {
			case !gin:
				out = append(out, fmt.Sprintf("%s: missing, want %s", sub, compact(wv)))
			case !win:
				out = append(out, fmt.Sprintf("%s: %s, want nothing", sub, compact(gv)))
			default:
				out = append(out, differences(wv, gv, sub)...)
			}
		}
		return out
	}
	wl, wok := want.([]any)
	gl, gok := got.([]any)
	if wok && gok && len(wl) == len(gl) {
		var out []string
		for i := range wl {
			out = append(out, differences(wl[i], gl[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: %s, want %s", path, compact(got), compact(want))}
	}
	return nil
}

func compact(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
