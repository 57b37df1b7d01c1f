-- Ends a break-glass override before it expires: without the annotation Tollgate freezes again at its
-- next evaluation if the budget still calls for it.
if obj.metadata.annotations ~= nil then
  obj.metadata.annotations["tollgate.dev/override-freeze"] = nil
end
return obj
