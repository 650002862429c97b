package btfexport

import (
	"github.com/cilium/ebpf/btf"

	"ecli/runner/decode"
)

// skelType is the `type` string of a variable or an exported struct member, as ecc's bpftool
// fork writes it: decode.CTypeName (libbpf's spelling with modifiers stripped), except that a
// struct or union is "composite" and an enum is "enum".
func skelType(t btf.Type) string {
	switch decode.Unqualified(t).(type) {
	case *btf.Struct, *btf.Union:
		return "composite"
	case *btf.Enum:
		return "enum"
	}
	return decode.CTypeName(t)
}
