filter_criteria {
  filter {
    pattern = jsonencode({
      "eventName" = ["INSERT"]
      "dynamodb" = {
        "NewImage" = {
          "status" = {
            "S" = ["SHIPPED"]
          }
        }
      }
    })
  }
  filter {
    pattern = jsonencode({
      "userIdentity" = {
        "type" = ["Service"]
        "principalId" = ["dynamodb.amazonaws.com"]
      }
    })
  }
}
