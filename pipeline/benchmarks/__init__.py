"""Speed, memory and reliability measurements (`make bench`, `make reliability`): results go to bench/*.json and the README."""
