package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/tidwall/gjson"

	"ecli/runner/decode"
)

// OptionKind is the value kind of an Option.
type OptionKind int

// Option kinds.
const (
	KindBool OptionKind = iota
	KindInt
	KindUint
	KindFloat
	KindString
)

// BoolMode says how a bool option is spelled on the command line (eunomia's rules).
type BoolMode int

// Bool modes.
const (
	// BoolSwitch: --LONG (and -S) sets true. Used when there is no default.
	BoolSwitch BoolMode = iota
	// BoolEnable: --enable-LONG sets true; the default is false.
	BoolEnable
	// BoolDisable: --disable-LONG sets false; the default is true.
	BoolDisable
)

// Option is a tool option generated from one const volatile (or .bss/.data) global.
type Option struct {
	// Name is the variable's name in the BPF program.
	Name string
	// Section is the data section holding it (".rodata", ".bss", ...).
	Section string
	// Long and Short are the flag names (Long without dashes; Short may be empty).
	Long, Short string
	// Help is the one-line help text.
	Help string
	// Kind, Size (bytes) and Type describe the value.
	Kind OptionKind
	Size int
	Type string
	// Default is the default as text ("" when none; the object's initial value is kept).
	Default string
	// BoolMode applies to KindBool.
	BoolMode BoolMode
	// Positional: the value may be given as the tool's positional argument.
	Positional bool
	// Scale multiplies the user's value before it is stored (0 means 1).
	Scale float64
	// Metavar names the value in help.
	Metavar string
	// Unsupported is why the package cannot honour this option ("" when it can). Help
	// mentions it; SetOption refuses the option with ErrUnsupportedOption.
	Unsupported string
	// PinnedMap names the map that the pinned map at the option's value (a bpffs path)
	// replaces at Load ("" for ordinary options).
	PinnedMap string

	btfType btf.Type
}

// FlagName is the spelling of the option's long flag, honouring BoolMode.
func (o *Option) FlagName() string {
	if o.Kind == KindBool {
		switch o.BoolMode {
		case BoolEnable:
			return "enable-" + o.Long
		case BoolDisable:
			return "disable-" + o.Long
		}
	}
	return o.Long
}

// Options returns the tool's options, in package order.
func (p *Package) Options() []*Option { return p.opts }

// Option returns the option for a variable name, or nil.
func (p *Package) Option(name string) *Option {
	for _, o := range p.opts {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// OptionByFlag returns the option whose long flag (as spelled on the command line) is
// name, or nil.
func (p *Package) OptionByFlag(name string) *Option {
	for _, o := range p.opts {
		if o.FlagName() == name {
			return o
		}
	}
	return nil
}

// ErrUnsupportedOption: the package lists the option but cannot honour it (cmdarg
// "unsupported"); the error text is "--FLAG is not supported: REASON".
var ErrUnsupportedOption = errors.New("option not supported")

type unsupportedError struct{ flag, reason string }

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("--%s is not supported: %s", e.flag, e.reason)
}

func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupportedOption }

// SetOption parses value for the option of variable name and remembers it for Load.
// For bool options in BoolDisable mode, "true" means the flag was given (value false).
func (p *Package) SetOption(name, value string) error {
	o := p.Option(name)
	if o == nil {
		return fmt.Errorf("%w: no option %q", ErrBadOption, name)
	}
	if o.Unsupported != "" {
		return &unsupportedError{o.FlagName(), o.Unsupported}
	}
	if _, err := o.encode(value); err != nil {
		return &ValueError{Flag: o.FlagName(), Err: err}
	}
	p.values[name] = value
	return nil
}

// ValueError is a value SetOption refused. It matches ErrBadOption with errors.Is.
type ValueError struct {
	Flag string // the long flag, without dashes
	Err  error  // why the value is wrong, e.g. `"abc" is not a number`
}

func (e *ValueError) Error() string { return fmt.Sprintf("%v: --%s: %v", ErrBadOption, e.Flag, e.Err) }

// Unwrap returns the reason.
func (e *ValueError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadOption.
func (e *ValueError) Is(target error) bool { return target == ErrBadOption }

// BoolValue reports the value a bool global will have at load time: the value set with
// SetOption, else its default, else the object's initial value.
func (p *Package) BoolValue(name string) bool {
	o := p.Option(name)
	if o == nil || o.Kind != KindBool {
		return false
	}
	if v, ok := p.values[name]; ok {
		b, _ := strconv.ParseBool(v)
		return b
	}
	if o.Default != "" {
		b, _ := strconv.ParseBool(o.Default)
		return b
	}
	if vs, ok := p.spec.Variables[name]; ok && len(vs.Value) > 0 {
		return vs.Value[0] != 0
	}
	return false
}

func (p *Package) buildOptions() error {
	seen := map[string]string{}
	for si, ds := range p.Meta.DataSections {
		for vi, v := range ds.Variables {
			if strings.HasPrefix(v.Name, "__eunomia_dummy") || v.Name == "__padding" {
				continue
			}
			path := fmt.Sprintf("%s.bpf_skel.data_sections[%d].variables[%d]", p.Meta.path, si, vi)
			path = strings.TrimPrefix(path, ".")
			vs, ok := p.spec.Variables[v.Name]
			if !ok {
				return badf(path+".name", "variable %q is not in the BPF object", v.Name)
			}
			if vs.Type != nil && slices.Contains(vs.Type.Tags, "ecli:lost") {
				continue // a lost-event counter (runner/lost.go), not an option
			}
			if vs.Type == nil {
				return badf(path+".name", "variable %q has no BTF type in the object", v.Name)
			}
			o := &Option{Name: v.Name, Section: ds.Name, Long: v.Name, Type: v.Type, btfType: vs.Type.Type,
				Help: v.Description, Positional: v.Cmdarg.Positional, Scale: v.Cmdarg.Scale, Metavar: v.Cmdarg.Metavar,
				Unsupported: v.Cmdarg.Unsupported, PinnedMap: v.Cmdarg.PinnedMap}
			if o.Type == "" {
				o.Type = typeString(o.btfType)
			}
			if err := o.classify(); err != nil {
				if v.Value != "" || v.Cmdarg.Default != "" {
					return badf(path+".type", "variable %s: %v", v.Name, err)
				}
				continue // not settable from the command line, and nothing to set
			}
			if o.PinnedMap != "" {
				if o.Kind != KindString {
					return badf(path+".cmdarg.pinned_map", "variable %s is a %s, want a char[N] to hold the path", v.Name, o.Type)
				}
				if ms, ok := p.spec.Maps[o.PinnedMap]; !ok || ms == nil {
					return badf(path+".cmdarg.pinned_map", "map %q is not in the BPF object", o.PinnedMap)
				}
			}
			if v.Cmdarg.Long != "" {
				o.Long = v.Cmdarg.Long
			}
			o.Short = v.Cmdarg.Short
			if v.Cmdarg.Help != "" {
				o.Help = v.Cmdarg.Help
			}
			if o.Help == "" {
				o.Help = fmt.Sprintf("set the %s variable %s", o.Type, v.Name)
			}
			if o.Unsupported != "" {
				o.Help += " (not supported: " + o.Unsupported + ")"
			}
			def, defPath := v.Cmdarg.Default, path+".cmdarg.default"
			if def == "" {
				def, defPath = v.Value, path+".value"
			}
			if def != "" {
				d, err := jsonToText(def, o.Kind)
				if err != nil {
					return badf(defPath, "%v", err)
				}
				if _, err := o.encode(d); err != nil {
					return badf(defPath, "%v", err)
				}
				o.Default = d
			}
			if o.Kind == KindBool && o.Default == "" && len(vs.Value) > 0 && vs.Value[0] != 0 {
				// The object initialises it to true: offer --disable-X, not a no-op --X.
				o.Default = "true"
			}
			if o.Kind == KindBool {
				switch o.Default {
				case "":
					o.BoolMode = BoolSwitch
				case "true":
					o.BoolMode = BoolDisable
				default:
					o.BoolMode = BoolEnable
				}
				// An explicit short flag or long name keeps the plain switch spelling
				// (ecli extension: bcc-style -t / --timestamp).
				if o.Short != "" && o.Default != "true" {
					o.BoolMode = BoolSwitch
				}
			}
			if prev, dup := seen[o.FlagName()]; dup {
				return badf(path+".cmdarg.long", "flag --%s is used by both %s and %s", o.FlagName(), prev, v.Name)
			}
			seen[o.FlagName()] = v.Name
			if o.Short != "" {
				if prev, dup := seen["-"+o.Short]; dup {
					return badf(path+".cmdarg.short", "flag -%s is used by both %s and %s", o.Short, prev, v.Name)
				}
				seen["-"+o.Short] = v.Name
			}
			p.opts = append(p.opts, o)
		}
	}
	npos := 0
	for _, o := range p.opts {
		if o.Positional {
			npos++
		}
	}
	if npos > 1 {
		return badf(p.Meta.path+".bpf_skel.data_sections", "%d variables are positional, at most one may be", npos)
	}
	return nil
}

// classify derives Kind and Size from the variable's BTF type.
func (o *Option) classify() error {
	t := btf.UnderlyingType(o.btfType)
	switch t := t.(type) {
	case *btf.Int:
		o.Size = int(t.Size)
		switch {
		case t.Encoding == btf.Bool:
			o.Kind = KindBool
		case t.Size > 8:
			return fmt.Errorf("%d-byte integers are not supported as options", t.Size)
		case t.Encoding == btf.Signed:
			o.Kind = KindInt
		default:
			o.Kind = KindUint
		}
	case *btf.Enum:
		o.Size = int(t.Size)
		o.Kind = KindUint
		if t.Signed {
			o.Kind = KindInt
		}
	case *btf.Float:
		o.Kind, o.Size = KindFloat, int(t.Size)
	case *btf.Array:
		if !isCharType(t.Type) {
			return fmt.Errorf("arrays other than char[N] are not supported as options")
		}
		o.Kind, o.Size = KindString, int(t.Nelems)
	case *btf.Pointer:
		return fmt.Errorf("pointers are not supported as options")
	default:
		return fmt.Errorf("%T is not supported as an option", t)
	}
	return nil
}

func isCharType(t btf.Type) bool {
	i, ok := btf.UnderlyingType(t).(*btf.Int)
	return ok && i.Size == 1 && (i.Name == "char" || i.Encoding == btf.Char)
}

// encode turns a textual value into the bytes of the global.
func (o *Option) encode(s string) ([]byte, error) {
	b := make([]byte, o.Size)
	switch o.Kind {
	case KindBool:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a bool", s)
		}
		if v {
			b[0] = 1
		}
	case KindInt, KindUint:
		if o.Scale != 0 {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%q is not a number", s)
			}
			f = math.Round(f * o.Scale)
			if o.Kind == KindUint && f < 0 {
				return nil, fmt.Errorf("%s must not be negative", s)
			}
			if math.Abs(f) >= 1<<63 {
				return nil, fmt.Errorf("%s is out of range", s)
			}
			s = strconv.FormatInt(int64(f), 10)
		}
		bits := o.Size * 8
		if o.Kind == KindInt {
			v, err := strconv.ParseInt(s, 0, bits)
			if err != nil {
				return nil, numErr(s, err, o)
			}
			putUint(b, uint64(v))
		} else {
			v, err := strconv.ParseUint(s, 0, bits)
			if err != nil {
				return nil, numErr(s, err, o)
			}
			putUint(b, v)
		}
	case KindFloat:
		f, err := strconv.ParseFloat(s, o.Size*8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		if o.Size == 4 {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(f)))
		} else {
			binary.LittleEndian.PutUint64(b, math.Float64bits(f))
		}
	case KindString:
		if len(s)+1 > o.Size {
			return nil, fmt.Errorf("%q is too long: at most %d bytes", s, o.Size-1)
		}
		copy(b, s)
	}
	return b, nil
}

func numErr(s string, err error, o *Option) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%s is out of range for %s", s, o.Type)
	}
	return fmt.Errorf("%q is not an integer", s)
}

func putUint(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}

// jsonToText converts a JSON default value to the option's textual form.
func jsonToText(raw string, k OptionKind) (string, error) {
	r := gjson.Parse(raw)
	switch r.Type {
	case gjson.True, gjson.False:
		if k != KindBool {
			return "", fmt.Errorf("bool default for a non-bool variable")
		}
		return strconv.FormatBool(r.Bool()), nil
	case gjson.Number:
		if k == KindBool {
			return "", fmt.Errorf("number default %s for a bool variable", raw)
		}
		return r.Raw, nil
	case gjson.String:
		if k == KindBool {
			return "", fmt.Errorf("string default for a bool variable")
		}
		return r.Str, nil
	}
	return "", fmt.Errorf("default %s is not a bool, number or string", raw)
}

// applyOptions writes defaults and user values into the collection spec's globals.
func (p *Package) applyOptions(spec *ebpf.CollectionSpec) error {
	for _, o := range p.opts {
		val, set := p.values[o.Name]
		if !set {
			if o.Default == "" {
				continue // keep the object's initial value
			}
			val = o.Default
		}
		b, err := o.encode(val)
		if err != nil {
			return fmt.Errorf("%w: --%s: %v", ErrBadOption, o.FlagName(), err)
		}
		vs, ok := spec.Variables[o.Name]
		if !ok {
			return fmt.Errorf("setting %s: variable not in object", o.Name)
		}
		if o.Kind == KindString {
			// Keep the object's bytes after the string (eunomia does the same).
			cur := append([]byte(nil), vs.Value...)
			if len(cur) < o.Size {
				cur = append(cur, make([]byte, o.Size-len(cur))...)
			}
			copy(cur, b[:len(val)+1])
			b = cur
		}
		if err := vs.Set(b); err != nil {
			return fmt.Errorf("setting %s: %w", o.Name, err)
		}
	}
	return nil
}

// typeString renders a BTF type as a C type string (decode.CTypeName).
func typeString(t btf.Type) string { return decode.CTypeName(t) }
