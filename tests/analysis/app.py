print("analysis only")
