package luatest

import (
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// clockOS is the os library of Argo CD's sandbox: only time and date, so a script cannot run commands,
// read files or exit. It reproduces what Argo CD's version returns, including its odd corners (see date),
// with a clock the tests can set.
type clockOS struct {
	now func() time.Time
}

func (c clockOS) funcs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{"time": c.time, "date": c.date}
}

func (c clockOS) open(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.OsLibName, c.funcs()))
	return 1
}

func (c clockOS) load(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), c.funcs()))
	return 1
}

// time: os.time() is now in Unix seconds; os.time{year=..., month=..., day=...} reads the fields in the
// local zone, with hour 12 and min/sec 0 when left out.
func (c clockOS) time(l *lua.LState) int {
	if l.GetTop() == 0 {
		l.Push(lua.LNumber(c.now().Unix()))
		return 1
	}
	fields := l.CheckTable(1)
	field := func(name string, otherwise int) int {
		if n, ok := fields.RawGetString(name).(lua.LNumber); ok {
			return int(n)
		}
		return otherwise
	}
	at := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1), field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	l.Push(lua.LNumber(at.Unix()))
	return 1
}

// date: os.date(format, t). A leading "!" selects UTC, but only for the current time: Argo CD reads an
// explicit t in the local zone whatever the format says, so os.date("!%H", t) is local time there, and
// here too. Scripts that need UTC for a computed time must do the arithmetic themselves.
func (c clockOS) date(l *lua.LState) int {
	t := c.now().Local()
	format := "%c"
	if l.GetTop() >= 1 {
		format = l.CheckString(1)
		if strings.HasPrefix(format, "!") {
			t = c.now().UTC()
			format = strings.TrimLeft(format, "!")
		}
		if l.GetTop() >= 2 {
			t = time.Unix(l.CheckInt64(2), 0).Local()
		}
		if strings.HasPrefix(format, "*t") {
			fields := l.NewTable()
			for name, value := range map[string]int{
				"year": t.Year(), "month": int(t.Month()), "day": t.Day(),
				"hour": t.Hour(), "min": t.Minute(), "sec": t.Second(),
				"wday": int(t.Weekday()) + 1, "yday": 0,
			} {
				fields.RawSetString(name, lua.LNumber(value))
			}
			fields.RawSetString("isdst", lua.LFalse)
			l.Push(fields)
			return 1
		}
	}
	l.Push(lua.LString(strftime(t, format)))
	return 1
}

// strftimeLayouts is the set of conversions Argo CD's os.date knows, as Go layouts. Some differ from C's
// strftime (%a gives the literal "mon", %x a time, %c a short date); they are kept, because a script is
// judged by what Argo CD prints.
var strftimeLayouts = map[byte]string{
	'a': "mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'c': "02 Jan 06 15:04 MST", 'd': "02",
	'F': "2006-01-02", 'H': "15", 'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'P': "pm", 'S': "05",
	'x': "15/04/05", 'X': "15:04:05", 'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST",
}

func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' || i == len(format)-1 {
			b.WriteByte(ch)
			continue
		}
		i++
		flag := format[i]
		if layout, ok := strftimeLayouts[flag]; ok {
			b.WriteString(t.Format(layout))
			continue
		}
		switch flag {
		case '%':
			b.WriteByte('%')
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		default:
			b.WriteByte('%')
			b.WriteByte(flag)
		}
	}
	return b.String()
}
