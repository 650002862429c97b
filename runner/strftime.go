package runner

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// errStrftime is a time layout with a conversion appendStrftime does not know.
var errStrftime = errors.New("unknown conversion")

// checkStrftime reports whether layout holds only the conversions appendStrftime knows.
func checkStrftime(layout string) error {
	for i := 0; i < len(layout); i++ {
		if layout[i] != '%' {
			continue
		}
		if i++; i >= len(layout) {
			return fmt.Errorf("%w: a lone %% at the end (%%%% for a percent sign)", errStrftime)
		}
		switch layout[i] {
		case 'H', 'M', 'S', 'Y', 'm', 'd', '%':
		default:
			return fmt.Errorf("%w %%%c (want %%H %%M %%S %%Y %%m %%d or %%%%)", errStrftime, layout[i])
		}
	}
	return nil
}

// appendStrftime appends t in a strftime-style layout checked by checkStrftime: %H %M %S
// (two digits), %Y (four), %m %d (two), %% (a percent sign); other bytes are literal.
func appendStrftime(dst []byte, t time.Time, layout string) []byte {
	two := func(dst []byte, n int) []byte {
		if n < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(n), 10)
	}
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 >= len(layout) {
			dst = append(dst, c)
			continue
		}
		i++
		switch layout[i] {
		case 'H':
			dst = two(dst, t.Hour())
		case 'M':
			dst = two(dst, t.Minute())
		case 'S':
			dst = two(dst, t.Second())
		case 'Y':
			dst = append(dst, fmt.Sprintf("%04d", t.Year())...)
		case 'm':
			dst = two(dst, int(t.Month()))
		case 'd':
			dst = two(dst, t.Day())
		default:
			dst = append(dst, layout[i])
		}
	}
	return dst
}
