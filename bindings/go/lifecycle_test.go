package docdb

func childOpen(dir string) int   { return 0 }
func childWriter(dir string) int { return 0 }
