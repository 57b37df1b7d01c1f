package luatest

import (
	"encoding/json"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
)

// toLua converts a decoded JSON value into Lua the way Argo CD hands the live object to a script: maps
// become tables with string keys, lists become sequences from 1, numbers become Lua numbers, and anything
// else (json.Number included) as Argo CD converts it.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		list := l.CreateTable(len(v), 0)
		for _, item := range v {
			list.Append(toLua(l, item))
		}
		return list
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(l, item))
		}
		return table
	}
	return lua.LNil
}

// fromLua encodes a script's result with the JSON encoder Argo CD uses, so its rules hold here too: an
// empty table is an empty list, a table mixing key kinds or with holes in its sequence is an error.
func fromLua(value lua.LValue) ([]byte, error) {
	return luajson.Encode(value)
}

// restoreEmptyObjects undoes what the encoder does to maps a script emptied or left empty: {} comes back
// as [], and Argo CD puts {} back wherever the object it passed in had a map. newObj is changed in place.
func restoreEmptyObjects(newObj, oldObj map[string]any) map[string]any {
	for key, oldValue := range oldObj {
		newValue, ok := newObj[key]
		if !ok {
			continue
		}
		switch n := newValue.(type) {
		case map[string]any:
			if o, ok := oldValue.(map[string]any); ok {
				newObj[key] = restoreEmptyObjects(n, o)
			}
		case []any:
			switch o := oldValue.(type) {
			case map[string]any:
				if len(n) == 0 {
					newObj[key] = map[string]any{}
				}
			case []any:
				newObj[key] = restoreEmptyInList(n, o)
			}
		}
	}
	return newObj
}

func restoreEmptyInList(newList, oldList []any) []any {
	for i := range newList {
		if i >= len(oldList) {
			break
		}
		switch n := newList[i].(type) {
		case map[string]any:
			if o, ok := oldList[i].(map[string]any); ok {
				newList[i] = restoreEmptyObjects(n, o)
			}
		case []any:
			if o, ok := oldList[i].([]any); ok {
				newList[i] = restoreEmptyInList(n, o)
			}
		}
	}
	return newList
}
