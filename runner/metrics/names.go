package metrics

import "strings"

// metricName joins parts with '_', each made a valid Prometheus name part: characters
// other than ASCII letters, digits and '_' become '_'.
func metricName(parts ...string) string {
	for i, p := range parts {
		parts[i] = sanitize(p)
	}
	return strings.Join(parts, "_")
}

// labelName makes a key field's name a valid label name: invalid characters become '_',
// leading underscores (names starting "__" are Prometheus's own) are dropped, and a name
// that is then empty, starts with a digit or is a label Prometheus gives histograms (le)
// is prefixed with "key_".
func labelName(name string) string {
	name = strings.TrimLeft(sanitize(name), "_")
	if name == "" || name[0] >= '0' && name[0] <= '9' || name == "le" || name == "quantile" {
		name = "key_" + name
	}
	return strings.TrimSuffix(name, "_")
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}
