package runner

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/tidwall/gjson"
)

// Meta is a package's metadata (eunomia's EunomiaObjectMeta).
type Meta struct {
	// ObjName is bpf_skel.obj_name, e.g. "tcpconnlat_bpf".
	ObjName string
	// Doc is bpf_skel.doc.
	Doc Doc
	// Maps, Progs and DataSections are bpf_skel's lists, in package order.
	Maps         []MapMeta
	Progs        []ProgMeta
	DataSections []DataSection
	// ExportTypes are the exported event structs (single-export mode uses the first).
	ExportTypes []ExportType
	// MultipleExportTypes switches to per-map ExportConfig.
	MultipleExportTypes bool
	// Version is eunomia_version, informational.
	Version string

	path      string    // JSON path of the meta object ("meta" or "")
	legacyBTF *btf.Spec // v1 export_btf blob, when present
}

// Doc is the package's documentation block.
type Doc struct {
	Version, Brief, Details, Description string
}

// MapMeta describes one map of the skeleton.
type MapMeta struct {
	Name  string // libbpf's map name (truncated for internal maps)
	Ident string // skeleton identifier: "rb", "rodata", "bss", ...
	// Sample, if set, makes the map a sampled map.
	Sample *Sample
	// Export is the map's export_config (multi-export mode).
	Export ExportConfig
	// StackTrace is set when intepreter is {"stack_trace": ...}.
	StackTrace *StackTrace
	// When and Unless (ecli extensions) name bool globals: the map is printed only when
	// When is true (if set) and Unless is false (if set).
	When, Unless string
}

// Sample is a map's sampling configuration.
type Sample struct {
	Interval time.Duration
	Type     string // "log2_hist", "linear_hist", "default_kv" or "table" (ecli)
	Unit     string
	ClearMap bool
	// AtExit (ecli: "at_exit": true or "interval": 0) prints the map once, at exit.
	AtExit bool
	// Sort (ecli: "sort") orders the entries of a round; empty keeps the map's order.
	Sort []SortKey
}

// SortKey is one key of a sampled map's sort order: a top-level field of the map's key or
// value type, by name.
type SortKey struct {
	Field string
	Desc  bool
}

// ExportKind says how a map's events are typed in multi-export mode.
type ExportKind int

// Export kinds.
const (
	ExportNone    ExportKind = iota // "no_export"
	ExportDefault                   // "default": the map's BTF value type
	ExportTypeID                    // {"btf_type_id": N}
	ExportMembers                   // {"custom_members": [...]}
)

// ExportConfig is a map's export_config.
type ExportConfig struct {
	Kind    ExportKind
	TypeID  btf.TypeID
	Members []CustomMember
}

// CustomMember is one entry of export_config.custom_members.
type CustomMember struct {
	Name   string
	Offset uint32
	TypeID btf.TypeID
}

// StackTrace is the stack_trace interpreter's configuration. Its with_symbols key is
// ignored: ecli prints addresses only.
type StackTrace struct {
	FieldMap map[string]string
}

// ProgMeta describes one program of the skeleton.
type ProgMeta struct {
	Name   string
	Attach string // ELF section name
	// Ifindex, XDPFlags: for xdp programs (keys ifindex, flags). Zero ifindex means unset.
	Ifindex  int
	XDPFlags uint32
	// TC: tchook/tcopts for tc programs.
	TCIfindex     int
	TCAttachPoint string // BPF_TC_INGRESS / BPF_TC_EGRESS
	TCHandle      uint32
	TCPriority    uint32
}

// DataSection is one entry of bpf_skel.data_sections.
type DataSection struct {
	Name      string // ".rodata", ".bss", ".data", ...
	Variables []Variable
}

// Variable is one global of a data section.
type Variable struct {
	Name        string
	Type        string // C type string, informational
	Description string
	// Value is the raw JSON of "value" ("" when absent or null).
	Value  string
	Cmdarg Cmdarg
}

// Cmdarg is a variable's command-line description (eunomia's cmdarg plus ecli's
// extensions positional, scale and metavar).
type Cmdarg struct {
	Default string // raw JSON, "" when absent
	Long    string
	Short   string
	Help    string
	// Positional (ecli) is the option's place among the tool's positional arguments,
	// 1-based (JSON true is 1); 0: not positional.
	Positional int
	Scale      float64
	Metavar    string
	// Role (ecli) gives the option's value a meaning to the runner as well: "duration"
	// (seconds until the run ends), "interval" (seconds between map samples) or "count"
	// (sampling rounds before the run ends). Zero means "not set".
	Role string
	// Unsupported (ecli) is why the package cannot honour the flag: it is listed in help
	// and giving it is an error.
	Unsupported string
	// PinnedMap (ecli) names a map of the object that the pinned map at the path given as
	// the option's value replaces.
	PinnedMap string
}

// ExportType is one entry of export_types.
type ExportType struct {
	Name    string
	Size    uint32
	TypeID  btf.TypeID
	Members []ExportMember
}

// ExportMember is a member name and its informational C type.
type ExportMember struct {
	Name, Type string
}

func parseMeta(m gjson.Result, path string) (*Meta, error) {
	at := func(s string) string { return jsonPath(path, s) }
	if !m.IsObject() {
		return nil, badf(path, "is %s, want an object", kindName(m))
	}
	meta := &Meta{path: path}
	skel := m.Get("bpf_skel")
	if !skel.IsObject() {
		return nil, badf(at("bpf_skel"), "is %s, want an object", kindName(skel))
	}
	meta.ObjName = skel.Get("obj_name").String()
	d := skel.Get("doc")
	meta.Doc = Doc{d.Get("version").String(), d.Get("brief").String(), d.Get("details").String(), d.Get("description").String()}
	meta.Version = m.Get("eunomia_version").String()
	meta.MultipleExportTypes = m.Get("enable_multiple_export_types").Bool()
	// poll_timeout_ms is checked but not used: Run's readers wake on events, not on a timer.
	if pt := m.Get("poll_timeout_ms"); pt.Exists() && (pt.Type != gjson.Number || pt.Int() <= 0) {
		return nil, badf(at("poll_timeout_ms"), "is %s, want a positive number", pt.Raw)
	}

	var err error
	eachList(skel, "maps", at("bpf_skel"), &err, func(i int, v gjson.Result, p string) error {
		mm, err := parseMap(v, p)
		if err == nil {
			meta.Maps = append(meta.Maps, mm)
		}
		return err
	})
	eachList(skel, "progs", at("bpf_skel"), &err, func(i int, v gjson.Result, p string) error {
		pm, err := parseProg(v, p)
		if err == nil {
			meta.Progs = append(meta.Progs, pm)
		}
		return err
	})
	eachList(skel, "data_sections", at("bpf_skel"), &err, func(i int, v gjson.Result, p string) error {
		ds := DataSection{Name: v.Get("name").String()}
		if ds.Name == "" {
			return badf(jsonPath(p, "name"), "missing")
		}
		var verr error
		eachList(v, "variables", p, &verr, func(j int, vv gjson.Result, vp string) error {
			vr, err := parseVariable(vv, vp)
			if err == nil {
				ds.Variables = append(ds.Variables, vr)
			}
			return err
		})
		if verr == nil {
			meta.DataSections = append(meta.DataSections, ds)
		}
		return verr
	})
	if err != nil {
		return nil, err
	}

	et := m.Get("export_types")
	switch {
	case !et.Exists() || et.Type == gjson.Null:
	case et.IsArray():
		for i, e := range et.Array() {
			x, err := parseExportType(e, jsonPath(at("export_types"), index(i)))
			if err != nil {
				return nil, err
			}
			meta.ExportTypes = append(meta.ExportTypes, x)
		}
	case et.IsObject() && et.Get("export_btf").Exists():
		if err := parseLegacyExport(meta, et, at("export_types")); err != nil {
			return nil, err
		}
	default:
		return nil, badf(at("export_types"), "is %s, want an array", kindName(et))
	}
	return meta, nil
}

// eachList walks obj[key] when it is an array; null or absent is an empty list.
func eachList(obj gjson.Result, key, path string, errp *error, fn func(int, gjson.Result, string) error) {
	if *errp != nil {
		return
	}
	p := jsonPath(path, key)
	v := obj.Get(gjson.Escape(key))
	if !v.Exists() || v.Type == gjson.Null {
		return
	}
	if !v.IsArray() {
		*errp = badf(p, "is %s, want an array", kindName(v))
		return
	}
	for i, e := range v.Array() {
		ep := jsonPath(p, index(i))
		if !e.IsObject() {
			*errp = badf(ep, "is %s, want an object", kindName(e))
			return
		}
		if err := fn(i, e, ep); err != nil {
			*errp = err
			return
		}
	}
}

func parseMap(v gjson.Result, p string) (MapMeta, error) {
	mm := MapMeta{Name: v.Get("name").String(), Ident: v.Get("ident").String()}
	if mm.Name == "" && mm.Ident == "" {
		return mm, badf(p, "map has neither name nor ident")
	}
	if s := v.Get("sample"); s.Exists() && s.Type != gjson.Null {
		smp, err := parseSample(s, jsonPath(p, "sample"))
		if err != nil {
			return mm, err
		}
		mm.Sample = smp
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"when", &mm.When}, {"unless", &mm.Unless}} {
		if r := v.Get(k.key); r.Exists() {
			if r.Type != gjson.String || r.Str == "" {
				return mm, badf(jsonPath(p, k.key), "is %s, want the name of a bool global", kindName(r))
			}
			*k.dst = r.Str
		}
	}
	ec := v.Get("export_config")
	switch {
	case !ec.Exists(), ec.Type == gjson.Null, ec.String() == "no_export":
	case ec.Type == gjson.String && ec.String() == "default":
		mm.Export.Kind = ExportDefault
	case ec.Get("btf_type_id").Exists():
		id := ec.Get("btf_type_id")
		if id.Type != gjson.Number || id.Int() <= 0 {
			return mm, badf(jsonPath(p, "export_config.btf_type_id"), "is %s, want a positive type id", id.Raw)
		}
		mm.Export = ExportConfig{Kind: ExportTypeID, TypeID: btf.TypeID(id.Int())}
	case ec.Get("custom_members").IsArray():
		mm.Export.Kind = ExportMembers
		for i, c := range ec.Get("custom_members").Array() {
			cp := jsonPath(p, "export_config", "custom_members", index(i))
			off, id := c.Get("offset"), c.Get("btf_type_id")
			if off.Type != gjson.Number || off.Int() < 0 || off.Int() > 1<<24 {
				return mm, badf(jsonPath(cp, "offset"), "is %s, want a byte offset", off.Raw)
			}
			if id.Type != gjson.Number || id.Int() <= 0 {
				return mm, badf(jsonPath(cp, "btf_type_id"), "is %s, want a positive type id", id.Raw)
			}
			mm.Export.Members = append(mm.Export.Members, CustomMember{c.Get("name").String(), uint32(off.Int()), btf.TypeID(id.Int())})
		}
	default:
		return mm, badf(jsonPath(p, "export_config"), "unrecognised value %s", ec.Raw)
	}
	if st := v.Get("intepreter.stack_trace"); st.Exists() {
		mm.StackTrace = &StackTrace{FieldMap: map[string]string{}}
		st.Get("field_map").ForEach(func(k, v gjson.Result) bool {
			mm.StackTrace.FieldMap[k.String()] = v.String()
			return true
		})
	}
	return mm, nil
}

func parseSample(s gjson.Result, p string) (*Sample, error) {
	if !s.IsObject() {
		return nil, badf(p, "is %s, want an object", kindName(s))
	}
	smp := &Sample{Type: "default_kv", Unit: "(unit)", ClearMap: s.Get("clear_map").Bool(), AtExit: s.Get("at_exit").Bool()}
	iv := s.Get("interval")
	switch {
	case iv.Type == gjson.Number && iv.Int() > 0:
		smp.Interval = time.Duration(iv.Int()) * time.Millisecond
	case iv.Type == gjson.Number && iv.Raw == "0", !iv.Exists() && smp.AtExit:
		smp.AtExit = true
	default:
		what := kindName(iv)
		if iv.Type == gjson.Number {
			what = iv.Raw
		}
		return nil, badf(jsonPath(p, "interval"), "is %s, want a number of milliseconds (0: at exit only)", what)
	}
	if t := s.Get("type"); t.Exists() {
		switch t.String() {
		case "log2_hist", "linear_hist", "default_kv", "table":
			smp.Type = t.String()
		default:
			return nil, badf(jsonPath(p, "type"), "%q is not one of log2_hist, linear_hist, default_kv, table", t.String())
		}
	}
	if u := s.Get("unit"); u.Exists() {
		smp.Unit = u.String()
	}
	if so := s.Get("sort"); so.Exists() {
		if so.Type != gjson.String || so.Str == "" {
			return nil, badf(jsonPath(p, "sort"), "is %s, want field names separated by commas", kindName(so))
		}
		for _, f := range strings.Split(so.Str, ",") {
			f = strings.TrimSpace(f)
			k := SortKey{Field: strings.TrimPrefix(f, "-"), Desc: strings.HasPrefix(f, "-")}
			if k.Field == "" {
				return nil, badf(jsonPath(p, "sort"), "%q has an empty field name", so.Str)
			}
			smp.Sort = append(smp.Sort, k)
		}
	}
	return smp, nil
}

func parseProg(v gjson.Result, p string) (ProgMeta, error) {
	pm := ProgMeta{Name: v.Get("name").String(), Attach: v.Get("attach").String()}
	if pm.Name == "" {
		return pm, badf(jsonPath(p, "name"), "missing")
	}
	num := func(key string, dst *int) error {
		if r := v.Get(key); r.Exists() {
			if r.Type != gjson.Number || r.Int() < 0 {
				return badf(jsonPath(p, key), "is %s, want a non-negative number", r.Raw)
			}
			*dst = int(r.Int())
		}
		return nil
	}
	var flags, handle, prio int
	for _, e := range []error{
		num("ifindex", &pm.Ifindex), num("flags", &flags),
		num("tchook.ifindex", &pm.TCIfindex), num("tcopts.handle", &handle), num("tcopts.priority", &prio),
	} {
		if e != nil {
			return pm, e
		}
	}
	pm.XDPFlags, pm.TCHandle, pm.TCPriority = uint32(flags), uint32(handle), uint32(prio)
	pm.TCAttachPoint = v.Get("tchook.attach_point").String()
	return pm, nil
}

func parseVariable(v gjson.Result, p string) (Variable, error) {
	var vr Variable
	// bpftool's fork may write duplicate keys ("name" twice): the last one wins.
	v.ForEach(func(k, val gjson.Result) bool {
		switch k.String() {
		case "name":
			vr.Name = val.String()
		case "type":
			vr.Type = val.String()
		case "description":
			vr.Description = val.String()
		case "value":
			if val.Type != gjson.Null {
				vr.Value = val.Raw
			}
		}
		return true
	})
	if vr.Name == "" {
		return vr, badf(jsonPath(p, "name"), "missing")
	}
	if c := v.Get("cmdarg"); c.Exists() && c.Type != gjson.Null {
		if !c.IsObject() {
			return vr, badf(jsonPath(p, "cmdarg"), "is %s, want an object", kindName(c))
		}
		ca := Cmdarg{Long: c.Get("long").String(), Short: c.Get("short").String(), Help: c.Get("help").String(),
			Metavar: c.Get("metavar").String()}
		if pos := c.Get("positional"); pos.Exists() {
			switch {
			case pos.Type == gjson.True:
				ca.Positional = 1
			case pos.Type == gjson.False:
			case pos.Type == gjson.Number && pos.Num >= 1 && pos.Num <= 16 && pos.Num == float64(int(pos.Num)):
				ca.Positional = int(pos.Num)
			default:
				return vr, badf(jsonPath(p, "cmdarg", "positional"), "is %s, want true or a position from 1 to 16", pos.Raw)
			}
		}
		if r := c.Get("role"); r.Exists() {
			if !slices.Contains(optionRoles, r.Str) || r.Type != gjson.String {
				return vr, badf(jsonPath(p, "cmdarg", "role"), "is %s, want one of %s", r.Raw, strings.Join(optionRoles, ", "))
			}
			ca.Role = r.Str
		}
		for _, k := range []struct {
			key string
			dst *string
		}{{"unsupported", &ca.Unsupported}, {"pinned_map", &ca.PinnedMap}} {
			if r := c.Get(k.key); r.Exists() {
				if r.Type != gjson.String || r.Str == "" {
					return vr, badf(jsonPath(p, "cmdarg", k.key), "is %s, want a non-empty string", kindName(r))
				}
				*k.dst = r.Str
			}
		}
		if d := c.Get("default"); d.Exists() && d.Type != gjson.Null {
			ca.Default = d.Raw
		}
		if s := c.Get("scale"); s.Exists() {
			if s.Type != gjson.Number || s.Float() <= 0 {
				return vr, badf(jsonPath(p, "cmdarg.scale"), "is %s, want a positive number", s.Raw)
			}
			ca.Scale = s.Float()
		}
		if len(ca.Short) > 1 {
			return vr, badf(jsonPath(p, "cmdarg.short"), "%q is not a single character", ca.Short)
		}
		if strings.ContainsAny(ca.Long, " =") {
			return vr, badf(jsonPath(p, "cmdarg.long"), "%q is not a valid flag name", ca.Long)
		}
		vr.Cmdarg = ca
	}
	return vr, nil
}

func parseExportType(e gjson.Result, p string) (ExportType, error) {
	if !e.IsObject() {
		return ExportType{}, badf(p, "is %s, want an object", kindName(e))
	}
	id := e.Get("type_id")
	if id.Type != gjson.Number || id.Int() <= 0 {
		return ExportType{}, badf(jsonPath(p, "type_id"), "is %s, want a positive BTF type id", kindName(id))
	}
	x := ExportType{Name: e.Get("name").String(), Size: uint32(e.Get("size").Uint()), TypeID: btf.TypeID(id.Int())}
	for _, m := range e.Get("members").Array() {
		x.Members = append(x.Members, ExportMember{m.Get("name").String(), m.Get("type").String()})
	}
	return x, nil
}

// parseLegacyExport reads the v1 form {export_btf: base64 BTF, structs: [{id, name}]}.
func parseLegacyExport(meta *Meta, et gjson.Result, p string) error {
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, et.Get("export_btf").String()))
	if err != nil {
		return badf(jsonPath(p, "export_btf"), "invalid base64: %w", err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return badf(jsonPath(p, "export_btf"), "invalid BTF: %w", err)
	}
	meta.legacyBTF = spec
	for i, s := range et.Get("structs").Array() {
		sp := jsonPath(p, "structs", index(i))
		id := s.Get("id")
		t, err := spec.TypeByID(btf.TypeID(id.Int()))
		if err != nil {
			return badf(jsonPath(sp, "id"), "type %s is not in export_btf", id.Raw)
		}
		st, ok := t.(*btf.Struct)
		if !ok {
			return badf(jsonPath(sp, "id"), "type %s is a %T, want a struct", id.Raw, t)
		}
		x := ExportType{Name: s.Get("name").String(), Size: st.Size, TypeID: btf.TypeID(id.Int())}
		for _, m := range st.Members {
			x.Members = append(x.Members, ExportMember{Name: m.Name})
		}
		meta.ExportTypes = append(meta.ExportTypes, x)
	}
	return nil
}
