package runner

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package that is caused by one of these
// conditions wraps the matching sentinel, so callers can test with errors.Is.
var (
	// ErrBadPackage: the package JSON or the object inside it is malformed. The error
	// text names the JSON path at fault, e.g. meta.bpf_skel.progs[1].attach.
	ErrBadPackage = errors.New("bad package")
	// ErrPermission: the kernel refused for lack of privileges.
	ErrPermission = errors.New("needs root or CAP_BPF+CAP_PERFMON")
	// ErrNoKernelBTF: no BTF for the running kernel could be found.
	ErrNoKernelBTF = errors.New("no kernel BTF")
	// ErrUnsupportedAttach: ecli does not know how to attach a program's ELF section.
	ErrUnsupportedAttach = errors.New("unsupported attach type")
	// ErrHookMissing: the section is understood, but this kernel lacks the hook
	// (e.g. no kprobe support, fentry refused, tracepoint absent).
	ErrHookMissing = errors.New("hook not available on this kernel")
	// ErrVerifier: the kernel's verifier rejected a program.
	ErrVerifier = errors.New("verifier rejected program")
	// ErrBadOption: a tool option (generated from the program's globals) got a bad value.
	ErrBadOption = errors.New("bad option")
)

// PackageError is a problem at one JSON path of a package.
type PackageError struct {
	Path string // JSON path, e.g. "meta.bpf_skel.maps[2].sample.interval"
	Err  error
}

func (e *PackageError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("bad package: %v", e.Err)
	}
	return fmt.Sprintf("bad package: %s: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *PackageError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadPackage.
func (e *PackageError) Is(target error) bool { return target == ErrBadPackage }

func badf(path, format string, args ...any) error {
	return &PackageError{Path: path, Err: fmt.Errorf(format, args...)}
}

// jsonPath joins a JSON path: parent, then each element, a string as ".key" (no dot when
// the path is still empty) and an int as "[i]". jsonPath("", "bpf_skel", "progs", 0, "name")
// is "bpf_skel.progs[0].name"; jsonPath("meta", "export_types", 1) is "meta.export_types[1]".
func jsonPath(parent string, elems ...any) string {
	b := []byte(parent)
	for _, e := range elems {
		switch e := e.(type) {
		case int:
			b = fmt.Appendf(b, "[%d]", e)
		default:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = fmt.Append(b, e)
		}
	}
	return string(b)
}
