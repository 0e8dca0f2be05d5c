"""Reading and writing: the record types every stage passes on (`records`), input readers, claim output files and the table/JSON/CSV writer."""
