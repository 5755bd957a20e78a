"""The supplier side: the space this node donates, the customers it keeps data for, their requests."""
