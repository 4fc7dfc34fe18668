"""Delivery: deployments, the changes they ship and the incidents they cause (DORA metrics)."""
