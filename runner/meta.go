package runner

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
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
	// Time (ecli: "time") names a bool global: when it is true, each round of a
	// bcc-layout histogram starts with an HH:MM:SS line (bcc's -T).
	Time string
	// UnitIf (ecli: "unit_if": "GLOBAL:TEXT") replaces Unit with TEXT when the bool
	// global GLOBAL is true (bcc's -m: the program divides, the label follows).
	UnitIf *UnitIf
}

// UnitIf is a histogram unit chosen by a bool global.
type UnitIf struct {
	Flag, Unit string
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
// checked but ignored: symbolization is the renderer's choice.
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
	// When and Unless (ecli extensions) name bool globals: the program is attached only
	// when When is true and Unless is false (it is loaded either way).
	When, Unless string
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

	// offset and size are bpftool's "offset" and "size" keys, nil when absent; they must
	// agree with the object (checkDataSections).
	offset, size *uint32
}

// Cmdarg is a variable's command-line description (eunomia's cmdarg plus ecli's
// extensions positional, role, scale, metavar, unsupported, pinned_map and max_entries).
type Cmdarg struct {
	Default string // raw JSON, "" when absent
	Long    string
	Short   string
	Help    string
	// Positional (ecli) is the option's place among the tool's positional arguments,
	// 1-based (JSON true is 1); 0: not positional.
	Positional int
	// Role (ecli) gives the option's value a meaning to the runner as well: "duration"
	// (seconds until the run ends), "interval" (seconds between map samples) or "count"
	// (sampling rounds before the run ends). Zero means "not set".
	Role    string
	Scale   float64
	Metavar string
	// Unsupported (ecli) is why the package cannot honour the flag: it is listed in help
	// and giving it is an error.
	Unsupported string
	// PinnedMap (ecli) names a map of the object that the pinned map at the path given as
	// the option's value replaces.
	PinnedMap string
	// MaxEntries (ecli) names a map of the object whose max_entries the option's value
	// sets at load (bcc's --stack-storage-size).
	MaxEntries string
	// Conflicts (ecli) names the variable of another option that may not be given
	// together with this one (bcc's "you may not specify -d/--dns with -c/--count").
	Conflicts string
}

// ExportType is one entry of export_types.
type ExportType struct {
	Name string
	// Size is the struct's size in bytes, from the BTF (the JSON "size" must agree).
	Size    uint32
	TypeID  btf.TypeID
	Members []ExportMember

	jsonSize int64 // "size" as given, -1 when absent
}

// ExportMember is a member name and its informational C type.
type ExportMember struct {
	Name, Type string
}

func parseMeta(m gjson.Result, path string) (*Meta, error) {
	if !m.IsObject() {
		return nil, badf(path, "is %s, want an object", kindName(m))
	}
	meta := &Meta{path: path}
	skelPath := jsonPath(path, "bpf_skel")
	skel := m.Get("bpf_skel")
	if !skel.IsObject() {
		return nil, badf(skelPath, "is %s, want an object", kindName(skel))
	}
	var r reader
	meta.ObjName = r.str(skel, skelPath, "obj_name")
	if d, ok := r.object(skel, skelPath, "doc"); ok {
		dp := jsonPath(skelPath, "doc")
		meta.Doc = Doc{r.str(d, dp, "version"), r.str(d, dp, "brief"), r.str(d, dp, "details"), r.str(d, dp, "description")}
	}
	meta.Version = r.str(m, path, "eunomia_version")
	meta.MultipleExportTypes = r.boolean(m, path, "enable_multiple_export_types")
	// poll_timeout_ms is checked but not used: Run's readers wake on events, not on a timer.
	if pt, ok := r.uint(m, path, "poll_timeout_ms", maxMillis, "a positive number of milliseconds"); ok && pt == 0 {
		return nil, badf(jsonPath(path, "poll_timeout_ms"), "is 0, want a positive number of milliseconds")
	}
	if r.err != nil {
		return nil, r.err
	}

	var err error
	eachList(skel, "maps", skelPath, &err, func(i int, v gjson.Result, p string) error {
		mm, err := parseMap(v, p)
		if err == nil {
			meta.Maps = append(meta.Maps, mm)
		}
		return err
	})
	eachList(skel, "progs", skelPath, &err, func(i int, v gjson.Result, p string) error {
		pm, err := parseProg(v, p)
		if err == nil {
			meta.Progs = append(meta.Progs, pm)
		}
		return err
	})
	eachList(skel, "data_sections", skelPath, &err, func(i int, v gjson.Result, p string) error {
		ds, err := parseDataSection(v, p)
		if err == nil {
			meta.DataSections = append(meta.DataSections, ds)
		}
		return err
	})
	if err != nil {
		return nil, err
	}

	etPath := jsonPath(path, "export_types")
	et := m.Get("export_types")
	switch {
	case !et.Exists() || et.Type == gjson.Null:
	case et.IsArray():
		for i, e := range et.Array() {
			x, err := parseExportType(e, jsonPath(etPath, i))
			if err != nil {
				return nil, err
			}
			meta.ExportTypes = append(meta.ExportTypes, x)
		}
	case et.IsObject() && et.Get("export_btf").Exists():
		if err := parseLegacyExport(meta, et, etPath); err != nil {
			return nil, err
		}
	default:
		return nil, badf(etPath, "is %s, want an array", kindName(et))
	}
	return meta, nil
}

// Upper bounds of numbers read from a package.
const (
	maxMillis       = 1 << 31 // about 25 days: intervals and timeouts in ms
	maxMemberOffset = 1 << 24 // custom_members offsets
)

// eachList walks obj[key] when it is an array of objects; null or absent is an empty list.
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
		ep := jsonPath(p, i)
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
	var r reader
	mm := MapMeta{Name: r.str(v, p, "name"), Ident: r.str(v, p, "ident")}
	r.boolean(v, p, "mmaped") // libbpf's; cilium/ebpf decides from the object
	if r.err != nil {
		return mm, r.err
	}
	if mm.Name == "" && mm.Ident == "" {
		return mm, badf(p, "map has neither name nor ident")
	}
	if s, ok := get(v, "sample"); ok {
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
		if x := v.Get(k.key); x.Exists() {
			if x.Type != gjson.String || x.Str == "" {
				return mm, badf(jsonPath(p, k.key), "is %s, want the name of a bool global", kindName(x))
			}
			*k.dst = x.Str
		}
	}
	var err error
	if mm.Export, err = parseExportConfig(v.Get("export_config"), jsonPath(p, "export_config")); err != nil {
		return mm, err
	}
	if mm.StackTrace, err = parseInterpreter(v, p); err != nil {
		return mm, err
	}
	return mm, nil
}

// parseExportConfig reads a map's export_config: "no_export", "default",
// {"btf_type_id": N} or {"custom_members": [...]}.
func parseExportConfig(ec gjson.Result, p string) (ExportConfig, error) {
	var r reader
	switch {
	case !ec.Exists(), ec.Type == gjson.Null, ec.Type == gjson.String && ec.Str == "no_export":
		return ExportConfig{}, nil
	case ec.Type == gjson.String && ec.Str == "default":
		return ExportConfig{Kind: ExportDefault}, nil
	case ec.IsObject() && ec.Get("btf_type_id").Exists():
		id := r.typeID(ec, p, "btf_type_id")
		return ExportConfig{Kind: ExportTypeID, TypeID: id}, r.err
	case ec.IsObject() && ec.Get("custom_members").Exists():
		cms := ec.Get("custom_members")
		cmsPath := jsonPath(p, "custom_members")
		if !cms.IsArray() {
			return ExportConfig{}, badf(cmsPath, "is %s, want an array", kindName(cms))
		}
		cfg := ExportConfig{Kind: ExportMembers}
		for i, c := range cms.Array() {
			cp := jsonPath(cmsPath, i)
			if !c.IsObject() {
				return cfg, badf(cp, "is %s, want an object", kindName(c))
			}
			cm := CustomMember{Name: r.str(c, cp, "name")}
			off, ok := r.uint(c, cp, "offset", maxMemberOffset, "a byte offset")
			if !ok && r.err == nil {
				return cfg, badf(jsonPath(cp, "offset"), "missing")
			}
			cm.Offset, cm.TypeID = uint32(off), r.typeID(c, cp, "btf_type_id")
			if r.err != nil {
				return cfg, r.err
			}
			if cm.Name == "" {
				return cfg, badf(jsonPath(cp, "name"), "missing")
			}
			cfg.Members = append(cfg.Members, cm)
		}
		return cfg, nil
	}
	return ExportConfig{}, badf(p, "unrecognised value %s", describe(ec))
}

// parseInterpreter reads a map's "intepreter" (sic, eunomia's spelling): a string such as
// "default_struct" (the default rendering), or {"stack_trace": {...}}.
func parseInterpreter(v gjson.Result, p string) (*StackTrace, error) {
	in, ok := get(v, "intepreter")
	p = jsonPath(p, "intepreter")
	switch {
	case !ok, in.Type == gjson.String:
		return nil, nil
	case !in.IsObject():
		return nil, badf(p, "is %s, want a string or an object", kindName(in))
	}
	var r reader
	st, ok := r.object(in, p, "stack_trace")
	if !ok {
		return nil, r.err
	}
	p = jsonPath(p, "stack_trace")
	out := &StackTrace{FieldMap: map[string]string{}}
	if _, ok := get(st, "with_symbols"); ok {
		r.boolean(st, p, "with_symbols") // type-checked only
	}
	if fm, ok := r.object(st, p, "field_map"); ok {
		fp := jsonPath(p, "field_map")
		fm.ForEach(func(k, _ gjson.Result) bool {
			out.FieldMap[k.String()] = r.str(fm, fp, k.String())
			return r.err == nil
		})
	}
	return out, r.err
}

func parseSample(s gjson.Result, p string) (*Sample, error) {
	if !s.IsObject() {
		return nil, badf(p, "is %s, want an object", kindName(s))
	}
	var r reader
	smp := &Sample{Type: "default_kv", Unit: "(unit)", ClearMap: r.boolean(s, p, "clear_map"), AtExit: r.boolean(s, p, "at_exit")}
	if r.err != nil {
		return nil, r.err
	}
	iv := s.Get("interval")
	n, isNum := iv.Float(), iv.Type == gjson.Number
	switch {
	case isNum && n >= 1 && n <= maxMillis && n == float64(int64(n)):
		smp.Interval = time.Duration(n) * time.Millisecond
	case isNum && n == 0, !iv.Exists() && smp.AtExit:
		smp.AtExit = true
	default:
		return nil, badf(jsonPath(p, "interval"), "is %s, want a number of milliseconds (0: at exit only)", describe(iv))
	}
	if t, ok := get(s, "type"); ok {
		switch t.Str {
		case "log2_hist", "linear_hist", "default_kv", "table":
			if t.Type == gjson.String {
				smp.Type = t.Str
				break
			}
			fallthrough
		default:
			return nil, badf(jsonPath(p, "type"), "%s is not one of log2_hist, linear_hist, default_kv, table", describe(t))
		}
	}
	if _, ok := get(s, "unit"); ok {
		smp.Unit = r.str(s, p, "unit")
	}
	if t := s.Get("time"); t.Exists() {
		if t.Type != gjson.String || t.Str == "" {
			return nil, badf(jsonPath(p, "time"), "is %s, want the name of a bool global", kindName(t))
		}
		smp.Time = t.Str
	}
	if u := s.Get("unit_if"); u.Exists() {
		flag, unit, ok := strings.Cut(u.Str, ":")
		if u.Type != gjson.String || !ok || flag == "" || unit == "" {
			return nil, badf(jsonPath(p, "unit_if"), "is %s, want \"GLOBAL:UNIT\"", u.Raw)
		}
		smp.UnitIf = &UnitIf{Flag: flag, Unit: unit}
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
	return smp, r.err
}

func parseProg(v gjson.Result, p string) (ProgMeta, error) {
	var r reader
	pm := ProgMeta{Name: r.str(v, p, "name"), Attach: r.str(v, p, "attach")}
	r.boolean(v, p, "link") // ecli always attaches through a link where the kernel has one
	if r.err == nil && pm.Name == "" {
		return pm, badf(jsonPath(p, "name"), "missing")
	}
	ifindex, _ := r.uint(v, p, "ifindex", math.MaxInt32, "an interface index")
	flags, _ := r.uint(v, p, "flags", math.MaxUint32, "xdp flags")
	pm.Ifindex, pm.XDPFlags = int(ifindex), uint32(flags)
	if hook, ok := r.object(v, p, "tchook"); ok {
		hp := jsonPath(p, "tchook")
		ifindex, _ := r.uint(hook, hp, "ifindex", math.MaxInt32, "an interface index")
		pm.TCIfindex = int(ifindex)
		switch pm.TCAttachPoint = r.str(hook, hp, "attach_point"); pm.TCAttachPoint {
		case "", "BPF_TC_INGRESS", "BPF_TC_EGRESS":
		default:
			r.fail(badf(jsonPath(hp, "attach_point"), "%q is not BPF_TC_INGRESS or BPF_TC_EGRESS", pm.TCAttachPoint))
		}
	}
	if opts, ok := r.object(v, p, "tcopts"); ok {
		op := jsonPath(p, "tcopts")
		handle, _ := r.uint(opts, op, "handle", math.MaxUint32, "a tc handle")
		prio, _ := r.uint(opts, op, "priority", math.MaxUint16, "a tc priority")
		pm.TCHandle, pm.TCPriority = uint32(handle), uint32(prio)
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"when", &pm.When}, {"unless", &pm.Unless}} {
		if x := v.Get(k.key); x.Exists() && r.err == nil {
			if x.Type != gjson.String || x.Str == "" {
				r.fail(badf(jsonPath(p, k.key), "is %s, want the name of a bool global", kindName(x)))
			}
			*k.dst = x.Str
		}
	}
	return pm, r.err
}

func parseDataSection(v gjson.Result, p string) (DataSection, error) {
	var r reader
	ds := DataSection{Name: r.str(v, p, "name")}
	if r.err != nil {
		return ds, r.err
	}
	if ds.Name == "" {
		return ds, badf(jsonPath(p, "name"), "missing")
	}
	var err error
	eachList(v, "variables", p, &err, func(j int, vv gjson.Result, vp string) error {
		vr, err := parseVariable(vv, vp)
		if err == nil {
			ds.Variables = append(ds.Variables, vr)
		}
		return err
	})
	return ds, err
}

func parseVariable(v gjson.Result, p string) (Variable, error) {
	var vr Variable
	var r reader
	// bpftool's fork may write duplicate keys ("name" twice): the last one wins.
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.String()
		kp := jsonPath(p, key)
		switch key {
		case "name", "type", "description":
			s := r.scalarStr(val, kp)
			switch key {
			case "name":
				vr.Name = s
			case "type":
				vr.Type = s
			default:
				vr.Description = s
			}
		case "value":
			vr.Value, _ = r.scalarRaw(val, kp)
		case "offset", "size":
			n, ok := r.number(val, kp, math.MaxUint32, "a number of bytes")
			if ok {
				n32 := uint32(n)
				if key == "offset" {
					vr.offset = &n32
				} else {
					vr.size = &n32
				}
			}
		}
		return r.err == nil
	})
	if r.err != nil {
		return vr, r.err
	}
	if vr.Name == "" {
		return vr, badf(jsonPath(p, "name"), "missing")
	}
	c, ok := get(v, "cmdarg")
	if !ok {
		return vr, nil
	}
	cp := jsonPath(p, "cmdarg")
	if !c.IsObject() {
		return vr, badf(cp, "is %s, want an object", kindName(c))
	}
	ca := Cmdarg{Long: r.str(c, cp, "long"), Short: r.str(c, cp, "short"), Help: r.str(c, cp, "help"),
		Metavar: r.str(c, cp, "metavar")}
	if pos, ok := get(c, "positional"); ok {
		switch {
		case pos.Type == gjson.True:
			ca.Positional = 1
		case pos.Type == gjson.False:
		case pos.Type == gjson.Number && pos.Num >= 1 && pos.Num <= 16 && pos.Num == float64(int(pos.Num)):
			ca.Positional = int(pos.Num)
		default:
			return vr, badf(jsonPath(cp, "positional"), "is %s, want true or a position from 1 to 16", describe(pos))
		}
	}
	if role, ok := get(c, "role"); ok {
		if role.Type != gjson.String || !slices.Contains(optionRoles, role.Str) {
			return vr, badf(jsonPath(cp, "role"), "is %s, want one of %s", describe(role), strings.Join(optionRoles, ", "))
		}
		ca.Role = role.Str
	}
	if d, ok := get(c, "default"); ok {
		ca.Default, _ = r.scalarRaw(d, jsonPath(cp, "default"))
	}
	if r.err != nil {
		return vr, r.err
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"unsupported", &ca.Unsupported}, {"pinned_map", &ca.PinnedMap}, {"max_entries", &ca.MaxEntries}, {"conflicts", &ca.Conflicts}} {
		if x := c.Get(k.key); x.Exists() {
			if x.Type != gjson.String || x.Str == "" {
				return vr, badf(jsonPath(cp, k.key), "is %s, want a non-empty string", kindName(x))
			}
			*k.dst = x.Str
		}
	}
	if s := c.Get("scale"); s.Exists() {
		if s.Type != gjson.Number || s.Float() <= 0 || math.IsInf(s.Float(), 0) {
			return vr, badf(jsonPath(cp, "scale"), "is %s, want a positive number", describe(s))
		}
		ca.Scale = s.Float()
	}
	if len(ca.Short) > 1 {
		return vr, badf(jsonPath(cp, "short"), "%q is not a single character", ca.Short)
	}
	if strings.ContainsAny(ca.Long, " =") {
		return vr, badf(jsonPath(cp, "long"), "%q is not a valid flag name", ca.Long)
	}
	vr.Cmdarg = ca
	return vr, nil
}

func parseExportType(e gjson.Result, p string) (ExportType, error) {
	if !e.IsObject() {
		return ExportType{}, badf(p, "is %s, want an object", kindName(e))
	}
	var r reader
	if id := e.Get("type_id"); !id.Exists() || id.Type == gjson.Null {
		return ExportType{}, badf(jsonPath(p, "type_id"), "is %s, want a positive BTF type id", kindName(id))
	}
	x := ExportType{Name: r.str(e, p, "name"), TypeID: r.typeID(e, p, "type_id"), jsonSize: -1}
	if n, ok := r.uint(e, p, "size", math.MaxInt64, "a number of bytes"); ok {
		x.jsonSize = int64(n)
	}
	var err error
	eachList(e, "members", p, &err, func(i int, m gjson.Result, mp string) error {
		x.Members = append(x.Members, ExportMember{r.str(m, mp, "name"), r.str(m, mp, "type")})
		return r.err
	})
	if r.err != nil {
		return x, r.err
	}
	return x, err
}

// parseLegacyExport reads the v1 form {export_btf: base64 BTF, structs: [{id, name}]}.
func parseLegacyExport(meta *Meta, et gjson.Result, p string) error {
	var r reader
	b64 := r.str(et, p, "export_btf")
	if r.err != nil {
		return r.err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, b64))
	if err != nil {
		return badf(jsonPath(p, "export_btf"), "invalid base64: %v", err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return badf(jsonPath(p, "export_btf"), "invalid BTF: %v", err)
	}
	meta.legacyBTF = spec
	eachList(et, "structs", p, &err, func(i int, s gjson.Result, sp string) error {
		id := r.typeID(s, sp, "id")
		name := r.str(s, sp, "name")
		if r.err != nil {
			return r.err
		}
		t, err := spec.TypeByID(id)
		if err != nil {
			return badf(jsonPath(sp, "id"), "type %d is not in export_btf", id)
		}
		st, ok := t.(*btf.Struct)
		if !ok {
			return badf(jsonPath(sp, "id"), "type %d is %s, want a struct", id, kindOf(t))
		}
		if name != "" && name != st.Name {
			return badf(jsonPath(sp, "name"), "is %q but export_btf type %d is struct %s", name, id, st.Name)
		}
		x := ExportType{Name: st.Name, Size: st.Size, TypeID: id, jsonSize: -1}
		for _, m := range st.Members {
			x.Members = append(x.Members, ExportMember{Name: m.Name})
		}
		meta.ExportTypes = append(meta.ExportTypes, x)
		return nil
	})
	return err
}

// reader reads typed values out of package JSON. A key that is absent or null reads as the
// zero value; a key of the wrong JSON type is an error naming its path. The first error
// sticks in err, so a parser can read several keys and check once.
type reader struct{ err error }

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// get returns obj[key] and whether it is present and not null.
func get(obj gjson.Result, key string) (gjson.Result, bool) {
	v := obj.Get(gjson.Escape(key))
	return v, v.Exists() && v.Type != gjson.Null
}

// str reads obj[key] as a string.
func (r *reader) str(obj gjson.Result, path, key string) string {
	v, ok := get(obj, key)
	if !ok {
		return ""
	}
	return r.scalarStr(v, jsonPath(path, key))
}

// scalarStr reads v (at path) as a string; null reads as "".
func (r *reader) scalarStr(v gjson.Result, path string) string {
	if v.Type == gjson.Null {
		return ""
	}
	if v.Type != gjson.String {
		r.fail(badf(path, "is %s, want a string", describe(v)))
		return ""
	}
	return v.Str
}

// scalarRaw returns the raw JSON of v (at path) when it is a bool, number or string, ""
// for null, and an error for arrays and objects: no global takes one as its value.
func (r *reader) scalarRaw(v gjson.Result, path string) (string, bool) {
	switch v.Type {
	case gjson.Null:
		return "", false
	case gjson.True, gjson.False, gjson.Number, gjson.String:
		return v.Raw, true
	}
	r.fail(badf(path, "is %s, want a bool, number or string", kindName(v)))
	return "", false
}

// boolean reads obj[key] as a bool.
func (r *reader) boolean(obj gjson.Result, path, key string) bool {
	v, ok := get(obj, key)
	if !ok {
		return false
	}
	if v.Type != gjson.True && v.Type != gjson.False {
		r.fail(badf(jsonPath(path, key), "is %s, want true or false", describe(v)))
		return false
	}
	return v.Bool()
}

// object returns obj[key] and true when it is an object; absent or null is false.
func (r *reader) object(obj gjson.Result, path, key string) (gjson.Result, bool) {
	v, ok := get(obj, key)
	if !ok {
		return v, false
	}
	if !v.IsObject() {
		r.fail(badf(jsonPath(path, key), "is %s, want an object", kindName(v)))
		return v, false
	}
	return v, true
}

// uint reads obj[key] as an integer in [0, max]; want says what it is, for errors. It
// reports whether the key is present.
func (r *reader) uint(obj gjson.Result, path, key string, max uint64, want string) (uint64, bool) {
	v, ok := get(obj, key)
	if !ok {
		return 0, false
	}
	return r.number(v, jsonPath(path, key), max, want)
}

// number reads v (at path) as an integer in [0, max].
func (r *reader) number(v gjson.Result, path string, max uint64, want string) (uint64, bool) {
	if v.Type == gjson.Number {
		n, err := strconv.ParseUint(v.Raw, 10, 64)
		if err != nil { // 1e3, 8.0: fine if integral and in range
			f := v.Float()
			if f >= 0 && f <= float64(max) && f == math.Trunc(f) {
				n, err = uint64(f), nil
			}
		}
		if err == nil && n <= max {
			return n, true
		}
	}
	r.fail(badf(path, "is %s, want %s", describe(v), want))
	return 0, false
}

// typeID reads obj[key], which must be present, as a BTF type id (1 to 2^32-1).
func (r *reader) typeID(obj gjson.Result, path, key string) btf.TypeID {
	v, ok := get(obj, key)
	if !ok {
		r.fail(badf(jsonPath(path, key), "is %s, want a positive BTF type id", kindName(v)))
		return 0
	}
	n, ok := r.number(v, jsonPath(path, key), math.MaxUint32, "a positive BTF type id")
	if ok && n == 0 {
		r.fail(badf(jsonPath(path, key), "is 0, want a positive BTF type id"))
	}
	return btf.TypeID(n)
}

// describe names a JSON value in an error: a short number or string by its text, anything
// else by its kind, so that the message stays one short line.
func describe(v gjson.Result) string {
	switch {
	case v.Type == gjson.Number && len(v.Raw) <= 24:
		return v.Raw
	case v.Type == gjson.String && len(v.Str) <= 40:
		return strconv.Quote(v.Str)
	}
	return kindName(v)
}

// kindOf names a BTF type in an error, e.g. `int "unsigned int"`.
func kindOf(t btf.Type) string {
	k := strings.ToLower(strings.TrimPrefix(fmt.Sprintf("%T", t), "*btf."))
	if n := t.TypeName(); n != "" {
		return fmt.Sprintf("%s %q", k, n)
	}
	if _, ok := t.(*btf.Array); ok {
		return "array " + typeString(t)
	}
	return "an anonymous " + k
}
