module ecli

go 1.26
