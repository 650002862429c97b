package decode

import (
	"bytes"
	"strconv"
)

// nextArg splits the first NUL-terminated string off d. done reports that the list has
// ended: d is empty or, unless counted (a len= hint sized d), d starts with an empty string.
func nextArg(d []byte, counted bool) (arg, rest []byte, done bool) {
	if len(d) == 0 || (!counted && d[0] == 0) {
		return nil, nil, true
	}
	if i := bytes.IndexByte(d, 0); i >= 0 {
		return d[:i], d[i+1:], false
	}
	return d, nil, false
}

// appendArgv renders format=argv: the NUL-separated strings of d joined by single spaces,
// each in double quotes with `"` escaped as `\"` when quote is set (bcc execsnoop's -q).
// Control bytes are escaped as in other strings (a newline becomes \n).
func appendArgv(dst, d []byte, counted, quote bool) []byte {
	for i := 0; ; i++ {
		arg, rest, done := nextArg(d, counted)
		if done {
			return dst
		}
		if i > 0 {
			dst = append(dst, ' ')
		}
		if quote {
			dst = append(dst, '"')
			for len(arg) > 0 {
				j := bytes.IndexByte(arg, '"')
				if j < 0 {
					dst = appendTextString(dst, arg)
					break
				}
				dst = appendTextString(dst, arg[:j])
				dst = append(dst, '\\', '"')
				arg = arg[j+1:]
			}
			dst = append(dst, '"')
		} else {
			dst = appendTextString(dst, arg)
		}
		d = rest
	}
}

// appendArgvJSON renders format=argv as a JSON array of strings.
func appendArgvJSON(dst, d []byte, counted bool) []byte {
	dst = append(dst, '[')
	for i := 0; ; i++ {
		arg, rest, done := nextArg(d, counted)
		if done {
			return append(dst, ']')
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, arg)
		d = rest
	}
}

// signalNames are the Linux signal names without "SIG", by number (the generic and x86
// numbering, which arm64 and riscv share).
var signalNames = [...]string{
	1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE",
	9: "KILL", 10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM",
	16: "STKFLT", 17: "CHLD", 18: "CONT", 19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU",
	23: "URG", 24: "XCPU", 25: "XFSZ", 26: "VTALRM", 27: "PROF", 28: "WINCH", 29: "POLL",
	30: "PWR", 31: "SYS", 34: "RTMIN", 64: "RTMAX",
}

// signalName returns the name of signal sig without "SIG", "" when it has none.
func signalName(sig int64) string {
	if sig < 0 || sig >= int64(len(signalNames)) {
		return ""
	}
	return signalNames[sig]
}

// appendSignal renders format=signal: the signal's name (KILL), or its number when the
// number has no name.
func appendSignal(dst []byte, sig int64) []byte {
	if name := signalName(sig); name != "" {
		return append(dst, name...)
	}
	return strconv.AppendInt(dst, sig, 10)
}

// appendWaitStatus renders format=wstatus, a Linux wait status (task->exit_code) as bcc's
// exitsnoop prints it: "0", "code N" for exit(N), "signal N (NAME)" for a fatal signal,
// followed by ", core dumped" when the core bit is set. A signal without a name shows as
// "unknown".
func appendWaitStatus(dst []byte, ws uint64) []byte {
	code, info := (ws>>8)&0xff, ws&0xff
	if info == 0 {
		if code == 0 {
			return append(dst, '0')
		}
		dst = append(dst, "code "...)
		return strconv.AppendUint(dst, code, 10)
	}
	if sig := int64(info & 0x7f); sig != 0 {
		dst = append(dst, "signal "...)
		dst = strconv.AppendInt(dst, sig, 10)
		dst = append(dst, " ("...)
		if name := signalName(sig); name != "" {
			dst = append(dst, name...)
		} else {
			dst = append(dst, "unknown"...)
		}
		dst = append(dst, ')')
	}
	if info&0x80 != 0 {
		dst = append(dst, ", core dumped"...)
	}
	return dst
}
