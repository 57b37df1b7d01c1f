// Package luatest runs the Argo CD resource customizations under deploy/argocd/resource_customizations
// (health checks and resource actions) through gopher-lua, set up the way Argo CD sets it up: the same
// interpreter version, the same libraries, the same globals, the same conversion of the object into Lua
// and of the result back to JSON. A script that passes here therefore behaves the same in Argo CD.
package luatest

import (
	"context"
	"errors"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// scriptTimeout is the limit Argo CD puts on one run of a script; a script that loops fails the same way here.
const scriptTimeout = time.Second

// sandbox describes one run of a script.
type sandbox struct {
	// openLibs gives the script Lua's standard libraries (string, math, ...). Argo CD does that only for
	// the health checks compiled into it and for argocd-cm entries with resource.customizations.useOpenLibs;
	// health checks configured in argocd-cm run without them by default, and resource actions always do.
	openLibs bool
	// now is the clock behind os.time and os.date.
	now func() time.Time
	// params become the global actionParams, as Argo CD passes an action's parameters.
	params map[string]string
}

// execute runs script with obj as the global `obj` and returns the script's return value.
func (s sandbox) execute(script string, obj map[string]any) (lua.LValue, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: !s.openLibs})
	defer l.Close()

	// The libraries Argo CD opens even without the standard ones: package (for require), base, table and
	// an os library cut down to time and date. With open libraries this replaces the full os library.
	osLib := clockOS{now: s.now}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, osLib.open},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	l.PreloadModule(lua.OsLibName, osLib.load)

	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	l.SetContext(ctx)

	params := l.CreateTable(0, len(s.params))
	for name, value := range s.params {
		params.RawSetH(lua.LString(name), toLua(l, value))
	}
	l.SetGlobal("actionParams", params)
	l.SetGlobal("obj", toLua(l, obj))

	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}
	if err != nil {
		// Argo CD shows a failed script's message without Lua's stack trace; so do expectedErrorMessage cases.
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorRun {
			apiErr.StackTrace = ""
		}
		return nil, err
	}
	return l.Get(-1), nil
}
